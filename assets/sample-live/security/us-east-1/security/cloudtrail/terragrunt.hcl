# ---------------------------------------------------------------------------------------------------------------------
# CLOUDTRAIL
# Records every API call in this account into an encrypted S3 bucket.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//security/cloudtrail?ref=v0.4.0"
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

# Deploy after these units, which this one needs but reads no outputs from.
dependencies {
  paths = ["../../data-stores/kms-master-key"]
}

# Input values for the module's variables.
inputs = {
  aws_region                            = local.aws_region
  aws_account_id                        = local.account_id
  cloudtrail_trail_name                 = "${local.account_name}-trail"
  s3_bucket_name                        = "acme-${local.account_name}-cloudtrail"
  num_days_after_which_archive_log_data = 30
  num_days_after_which_delete_log_data  = 365

  # Same administrators as the KMS master key.
  kms_key_administrator_iam_arns        = ["arn:aws:iam::104983213567:user/REPLACE_ME"]
  allow_cloudtrail_access_with_iam      = true
  s3_bucket_already_exists              = false

  # Keep audit logs even when the account is torn down.
  force_destroy                         = false
}
