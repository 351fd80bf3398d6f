# ---------------------------------------------------------------------------------------------------------------------
# IAM ROLES FOR CROSS-ACCOUNT ACCESS (shared-services)
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

  # IAM users in the security account may assume these roles (when their groups allow it).
  allow_read_only_access_from_other_account_arns = ["arn:aws:iam::104983213567:root"]

  # Creates the allow-full-access-from-other-accounts role used by TERRAGRUNT_IAM_ROLE.
  allow_full_access_from_other_account_arns      = ["arn:aws:iam::104983213567:root"]

  # ssh-grunt on EC2 instances looks up users and their public keys in the security account.
  allow_ssh_grunt_access_from_other_account_arns = ["arn:aws:iam::104983213567:root"]
  should_require_mfa                             = true
}
