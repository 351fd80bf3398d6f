# ---------------------------------------------------------------------------------------------------------------------
# IAM GROUPS
# Groups in the security account that grant users permission to assume roles in the other accounts.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//security/iam-groups?ref=v0.4.0"
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

# Deploy after these units, which this one needs but reads no outputs from.
dependencies {
  paths = ["../iam-cross-account"]
}

# Input values for the module's variables.
inputs = {
  aws_account_id                      = local.account_id
  aws_region                          = local.aws_region
  should_require_mfa                  = true

  # One group per account; members may assume that account's full-access role.
  iam_groups_for_cross_account_access = [
    {
      group_name    = "_account.dev-full-access"
      iam_role_arns = ["arn:aws:iam::368294012756:role/allow-full-access-from-other-accounts"]
    },
    {
      group_name    = "_account.stage-full-access"
      iam_role_arns = ["arn:aws:iam::481039572864:role/allow-full-access-from-other-accounts"]
    },
    {
      group_name    = "_account.prod-full-access"
      iam_role_arns = ["arn:aws:iam::596120384729:role/allow-full-access-from-other-accounts"]
    },
    {
      group_name    = "_account.shared-services-full-access"
      iam_role_arns = ["arn:aws:iam::235829751430:role/allow-full-access-from-other-accounts"]
    },
  ]
  cross_account_access_all_group_name = "_account.all-full-access"
}
