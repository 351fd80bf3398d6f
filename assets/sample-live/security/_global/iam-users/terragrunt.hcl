# ---------------------------------------------------------------------------------------------------------------------
# IAM USERS
# The people who operate the Reference Architecture. Also create here the IAM user that administers the
# KMS master keys (seed: "Create an IAM User for KMS").
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//security/iam-users?ref=v0.4.0"
}

# Inherit the remote state configuration from the account's root terragrunt.hcl.
include {
  path = find_in_parent_folders()
}

locals {
  # Automatically load account-level and region-level variables.
  account_vars = read_terragrunt_config(find_in_parent_folders("account.hcl"))

  account_name = local.account_vars.locals.account_name
  account_id   = local.account_vars.locals.account_id
  aws_region   = "us-east-1" # global services (IAM, CloudFront) are managed from us-east-1
}

dependency "groups" {
  config_path = "../iam-groups"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    group_names = ["mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_account_id          = local.account_id
  aws_region              = local.aws_region

  # Replace with your team. Each user signs in with MFA.
  users                   = {
    alice       = { groups = ["_account.all-full-access", "ssh-grunt-sudo-users"] }
    bob         = { groups = ["_account.dev-full-access"] }
    "kms-admin" = { groups = [] }
  }
  password_reset_required = true
  force_destroy           = false
}
