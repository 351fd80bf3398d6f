# ---------------------------------------------------------------------------------------------------------------------
# LONG-RUNNING SCHEDULED LAMBDA
# Needs a deployment package built first (seed: "Build lambda functions"):
#   ./infrastructure-modules-multi-account-acme/lambda/long-running-scheduled/src/build.sh
# and then, as that script tells you: export TF_VAR_lambda_zip_path=<path it printed>
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//lambda/long-running-scheduled?ref=v0.4.0"
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
  config_path = "../../networking/vpc-app"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id                 = "vpc-mock"
    private_app_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# lambda_zip_path is deliberately not an input: it comes from TF_VAR_lambda_zip_path.

# Input values for the module's variables.
inputs = {
  aws_region          = local.aws_region
  aws_account_id      = local.account_id
  name                = "long-running-scheduled-${local.account_name}"
  schedule_expression = "rate(1 hour)"

  # Seconds.
  timeout             = 300
  memory_size         = 512

  # Runs inside the app VPC so it can reach private resources.
  vpc_id              = dependency.vpc.outputs.vpc_id
  subnet_ids          = dependency.vpc.outputs.private_app_subnet_ids
}
