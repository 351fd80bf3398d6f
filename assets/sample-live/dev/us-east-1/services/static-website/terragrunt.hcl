# ---------------------------------------------------------------------------------------------------------------------
# STATIC WEBSITE
# An S3 bucket served through CloudFront. CloudFront only uses ACM certificates from us-east-1, whatever region
# the rest of the environment runs in (seed: "Create TLS certs").
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//services/static-website?ref=v0.4.0"
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

dependency "route53" {
  config_path = "../../networking/route53-public"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    primary_domain_hosted_zone_id = "Z0000000MOCK"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region                       = local.aws_region
  aws_account_id                   = local.account_id
  website_domain_name              = "static.acme-dev.com"

  # Request this wildcard certificate in us-east-1 and validate it by DNS before applying.
  acm_certificate_domain_name      = "*.acme-dev.com"
  hosted_zone_id                   = dependency.route53.outputs.primary_domain_hosted_zone_id
  force_destroy_website            = true
  force_destroy_access_logs_bucket = true
}
