# ---------------------------------------------------------------------------------------------------------------------
# KMS CUSTOMER MASTER KEY
# Encrypts secrets (TLS private keys, database passwords) for this account. A CMK needs at least one IAM user as
# administrator, or it and everything encrypted with it may become inaccessible (seed: "Create an IAM User for KMS").
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//data-stores/kms-master-key?ref=v0.4.0"
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
  aws_region                 = local.aws_region
  aws_account_id             = local.account_id
  name                       = "cmk-shared-services"

  # ARNs of IAM users (in the security account) that administer this key. Replace the placeholder.
  cmk_administrator_iam_arns = ["arn:aws:iam::104983213567:user/REPLACE_ME"]

  # Who may encrypt and decrypt with the key.
  cmk_user_iam_arns          = ["arn:aws:iam::${local.account_id}:role/allow-full-access-from-other-accounts"]
  deletion_window_in_days    = 7
}
