# ---------------------------------------------------------------------------------------------------------------------
# MYSQL (RDS)
# The sample backend's database.
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//data-stores/mysql?ref=v0.4.0"
}

# Inherit the remote state configuration from the account's root terragrunt.hcl.
include {
  path = find_in_parent_folders()
}

# Production data: terragrunt refuses to destroy this unit while this is true (undeploy guidance). Set it
# to false, deliberately, before a teardown that should remove the database.
prevent_destroy = true

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
    vpc_id                         = "vpc-mock"
    private_persistence_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "kms" {
  config_path = "../kms-master-key"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    key_arn = "arn:aws:kms:us-east-1:000000000000:key/mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region              = local.aws_region
  aws_account_id          = local.account_id
  name                    = "mysql-${local.account_name}"
  db_name                 = "acme"

  # The master password is NOT set here: export TF_VAR_master_password before every
  # apply/destroy of this unit (seed: "Create data store passwords"). Keep it in a secrets manager.
  master_username         = "acme_admin"
  instance_type           = "db.t3.medium"
  allocated_storage       = 100
  multi_az                = true
  num_read_replicas       = 1
  backup_retention_period = 30

  # Teardown of non-prod environments skips the final snapshot.
  skip_final_snapshot     = false
  vpc_id                  = dependency.vpc.outputs.vpc_id
  subnet_ids              = dependency.vpc.outputs.private_persistence_subnet_ids

  # Encrypts the storage at rest.
  kms_key_arn             = dependency.kms.outputs.key_arn
}
