# ---------------------------------------------------------------------------------------------------------------------
# APPLICATION VPC
# The VPC the applications, load balancers and data stores of this environment run in.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//networking/vpc-app?ref=v0.4.0"
}

# Inherit the remote state configuration from the account's root terragrunt.hcl.
include {
  path = find_in_parent_folders()
}

locals {
  # Automatically load account-level and region-level variables.
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))
  region_vars  = read_terragrunt_config(find_in_parent_folders("region.hcl"))

  account_name = local.account_vars.locals.account_name
  account_id   = local.account_vars.locals.account_id
  aws_region   = local.region_vars.locals.aws_region
}

dependency "vpc_mgmt" {
  config_path = "../vpc-mgmt"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id         = "vpc-mock"
    vpc_name       = "mgmt"
    vpc_cidr_block = "10.0.0.0/16"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region          = local.aws_region
  aws_account_id      = local.account_id
  vpc_name            = "${local.account_name}"

  # Must not overlap with the management VPC it is peered with.
  cidr_block          = "10.8.0.0/16"

  # One per availability zone in prod for high availability.
  num_nat_gateways    = 3

  # Peer with the management VPC so OpenVPN users reach the apps.
  mgmt_vpc_id         = dependency.vpc_mgmt.outputs.vpc_id
  mgmt_vpc_name       = dependency.vpc_mgmt.outputs.vpc_name
  mgmt_vpc_cidr_block = dependency.vpc_mgmt.outputs.vpc_cidr_block
}
