# ---------------------------------------------------------------------------------------------------------------------
# MANAGEMENT VPC
# A VPC for management tools (OpenVPN, CI). Its public subnets are tagged gruntwork.io/allow-packer=true so
# Packer builds its temporary EC2 instances here (seed: "Prerequisite: Deploy Packer Build VPC").
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//networking/vpc-mgmt?ref=v0.4.0"
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

# Input values for the module's variables.
inputs = {
  aws_region                = local.aws_region
  aws_account_id            = local.account_id
  vpc_name                  = "mgmt"

  # Must not overlap with any VPC it is peered with.
  cidr_block                = "10.40.0.0/16"

  # One NAT gateway is enough for management traffic.
  num_nat_gateways          = 1

  # Packer finds this VPC and its public subnets by this tag (vpc_filter / subnet_filter).
  custom_tags               = {
    "gruntwork.io/allow-packer" = "true"
  }
  public_subnet_custom_tags = {
    "gruntwork.io/allow-packer" = "true"
  }
}
