# ---------------------------------------------------------------------------------------------------------------------
# INTERNAL APPLICATION LOAD BALANCER
# For service-to-service traffic inside the VPC (frontend -> backend).
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//networking/alb?ref=v0.4.0"
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
  config_path = "../vpc-app"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id                 = "vpc-mock"
    public_subnet_ids      = ["subnet-mock"]
    private_app_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "route53" {
  config_path = "../route53-private"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    internal_services_hosted_zone_id = "Z0000000MOCK"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region                             = local.aws_region
  aws_account_id                         = local.account_id
  alb_name                               = "prod-internal"
  is_internal_alb                        = true
  vpc_id                                 = dependency.vpc.outputs.vpc_id
  vpc_subnet_ids                         = dependency.vpc.outputs.private_app_subnet_ids

  # A self-signed certificate imported into ACM (seed: "Self-signed TLS certs for your internal load balancers").
  https_listener_ports_and_acm_ssl_certs = [
    {
      port            = 443
      tls_domain_name = "*.prod.acme-multi-account.internal"
    },
  ]
  domain_name                            = "services.prod.acme-multi-account.internal"
  hosted_zone_id                         = dependency.route53.outputs.internal_services_hosted_zone_id
}
