# ---------------------------------------------------------------------------------------------------------------------
# ECS CLUSTER
# The EC2 instances that run the Docker containers of the sample apps.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//services/ecs-cluster?ref=v0.4.0"
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
  config_path = "../../networking/vpc-app"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id                 = "vpc-mock"
    private_app_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "alb_public" {
  config_path = "../../networking/alb-public"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    alb_security_group_id = "sg-mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region                    = local.aws_region
  aws_account_id                = local.account_id
  cluster_name                  = "ecs-${local.account_name}"

  # Built from services/ecs-cluster/packer/ecs-node.json (shared from shared-services via ami_users).
  ami_id                        = "ami-REPLACE_ME"
  cluster_instance_type         = "t3.medium"

  # The EC2 key pair for everything except OpenVPN (emergency access only).
  cluster_instance_keypair_name = "REPLACE_ME"
  cluster_min_size              = 3
  cluster_max_size              = 6
  vpc_id                        = dependency.vpc.outputs.vpc_id
  vpc_subnet_ids                = dependency.vpc.outputs.private_app_subnet_ids

  # Let the load balancer reach the containers.
  alb_security_group_ids        = [dependency.alb_public.outputs.alb_security_group_id]
}
