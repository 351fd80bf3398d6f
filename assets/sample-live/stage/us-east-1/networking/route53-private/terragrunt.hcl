# ---------------------------------------------------------------------------------------------------------------------
# PRIVATE HOSTED ZONE
# Internal DNS names (e.g. for the internal ALB) visible only inside the app VPC.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//networking/route53-private?ref=v0.4.0"
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

dependency "vpc" {
  config_path = "../vpc-app"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id   = "vpc-mock"
    vpc_name = "mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region                    = local.aws_region
  aws_account_id                = local.account_id

  # Must match the self-signed TLS cert of the internal ALB.
  internal_services_domain_name = "stage.acme-multi-account.internal"
  vpc_id                        = dependency.vpc.outputs.vpc_id
  vpc_name                      = dependency.vpc.outputs.vpc_name
}
