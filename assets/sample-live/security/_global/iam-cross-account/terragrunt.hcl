# ---------------------------------------------------------------------------------------------------------------------
# IAM ROLES FOR CROSS-ACCOUNT ACCESS (security)
# Creates the IAM roles (allow-full-access-from-other-accounts, allow-read-only-access-from-other-accounts, ...)
# that users of the security account assume to work in this account.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//security/iam-cross-account?ref=v0.4.0"
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

# Input values for the module's variables.
inputs = {
  # Guard against applying this unit with credentials for the wrong account.
  aws_account_id                                 = local.account_id
  aws_region                                     = local.aws_region

  # The security account is where users live; nobody assumes roles into it.
  allow_read_only_access_from_other_account_arns = []
  allow_full_access_from_other_account_arns      = []

  # Users must sign in with MFA before assuming roles into the other accounts.
  should_require_mfa                             = true

  # Services the dev IAM group may use in the other accounts.
  dev_permitted_services                         = [
    "ec2",
    "ecs",
    "lambda",
    "rds",
    "s3",
  ]
}
