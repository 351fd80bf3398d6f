# ---------------------------------------------------------------------------------------------------------------------
# PUBLIC HOSTED ZONE
# If the zone already exists (e.g. the domain was bought through Route 53), import it first:
#   terragrunt import aws_route53_zone.primary_domain <HOSTED_ZONE_ID>
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//networking/route53-public?ref=v0.4.0"
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
  aws_region                  = local.aws_region
  aws_account_id              = local.account_id

  # The domain this environment serves; replace with your own.
  primary_domain_name         = "acme-stage.com"
  primary_domain_name_comment = "Public zone for the stage environment"

  # Lets teardown delete the zone even if it still has records (not in prod).
  force_destroy               = true
}
