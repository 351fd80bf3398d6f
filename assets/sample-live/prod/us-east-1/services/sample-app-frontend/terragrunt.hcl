# ---------------------------------------------------------------------------------------------------------------------
# SAMPLE APP FRONTEND
# An ECS service running the sample frontend Docker image.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//services/sample-app-frontend?ref=v0.4.0"
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

dependency "ecs_cluster" {
  config_path = "../ecs-cluster"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    ecs_cluster_arn  = "arn:aws:ecs:us-east-1:000000000000:cluster/mock"
    ecs_cluster_name = "mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "alb" {
  config_path = "../../networking/alb-public"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    alb_arn       = "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/mock/0"
    listener_arns = {
      "443" = "mock"
    }
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "route53" {
  config_path = "../../networking/route53-public"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    primary_domain_hosted_zone_id = "Z0000000MOCK"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "backend" {
  config_path = "../sample-app-backend"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    service_dns_name = "backend.mock.internal"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region              = local.aws_region
  aws_account_id          = local.account_id
  service_name            = "sample-app-frontend"

  # Built from the sample-app-frontend-multi-account-acme repo and pushed to ECR in shared-services
  # (seed: "Build Docker images").
  image                   = "235829751430.dkr.ecr.us-east-1.amazonaws.com/sample-app-frontend"

  # The image tag you pushed.
  version                 = "REPLACE_ME"
  desired_number_of_tasks = 3
  container_port          = 3000
  ecs_cluster_arn         = dependency.ecs_cluster.outputs.ecs_cluster_arn
  ecs_cluster_name        = dependency.ecs_cluster.outputs.ecs_cluster_name
  alb_arn                 = dependency.alb.outputs.alb_arn
  alb_listener_arns       = dependency.alb.outputs.listener_arns
  domain_name             = "frontend.acme.com"
  hosted_zone_id          = dependency.route53.outputs.primary_domain_hosted_zone_id
  backend_url             = "https://${dependency.backend.outputs.service_dns_name}"
}
