# ---------------------------------------------------------------------------------------------------------------------
# JENKINS
# The CI server that builds AMIs and images and deploys into the application accounts.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//mgmt/jenkins?ref=v0.4.0"
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
  config_path = "../../networking/vpc-mgmt"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    vpc_id                 = "vpc-mock"
    public_subnet_ids      = ["subnet-mock"]
    private_app_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Deploy after these units, which this one needs but reads no outputs from.
dependencies {
  paths = ["../../services/ecr-repos"]
}

# Input values for the module's variables.
inputs = {
  aws_region        = local.aws_region
  aws_account_id    = local.account_id
  name              = "jenkins"
  instance_type     = "t3.medium"

  # Built from mgmt/jenkins/packer/jenkins-ubuntu.json.
  ami_id            = "ami-REPLACE_ME"
  keypair_name      = "REPLACE_ME"
  memory            = "1024m"
  vpc_id            = dependency.vpc.outputs.vpc_id
  jenkins_subnet_id = dependency.vpc.outputs.private_app_subnet_ids[0]
  alb_subnet_ids    = dependency.vpc.outputs.public_subnet_ids
  domain_name       = "jenkins.acme-shared.com"
}
