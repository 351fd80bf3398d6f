# ---------------------------------------------------------------------------------------------------------------------
# ECR REPOSITORIES
# The Docker registry for the sample apps; dev, stage and prod pull from here.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//services/ecr-repos?ref=v0.4.0"
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
  aws_region                            = local.aws_region
  aws_account_id                        = local.account_id
  repo_names                            = ["sample-app-frontend", "sample-app-backend"]

  # The application accounts may pull images.
  external_account_ids_with_read_access = ["368294012756", "481039572864", "596120384729"]
  image_tag_mutability                  = "IMMUTABLE"
}
