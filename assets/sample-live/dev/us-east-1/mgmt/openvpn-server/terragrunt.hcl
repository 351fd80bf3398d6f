# ---------------------------------------------------------------------------------------------------------------------
# OPENVPN SERVER
# The first boot generates the PKI. On t2.micro that can take hours: deploy with t2.medium first (1-2 minutes),
# then downgrade to t2.micro (seed: "Configure the VPN server").
# ---------------------------------------------------------------------------------------------------------------------

# The Terraform module this unit deploys, pinned to a release of the modules repo.
terraform {
  source = "git::git@github.com:acme/infrastructure-modules-multi-account-acme.git//mgmt/openvpn-server?ref=v0.4.0"
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
    vpc_id            = "vpc-mock"
    public_subnet_ids = ["subnet-mock"]
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

dependency "kms" {
  config_path = "../../data-stores/kms-master-key"

  # Placeholder outputs so `plan` works before this dependency has been applied.
  mock_outputs = {
    key_arn = "arn:aws:kms:us-east-1:000000000000:key/mock"
  }
  mock_outputs_allowed_terraform_commands = ["validate", "plan"]
}

# Input values for the module's variables.
inputs = {
  aws_region               = local.aws_region
  aws_account_id           = local.account_id
  name                     = "vpn"

  # Use t2.medium for the first deployment, then t2.micro.
  instance_type            = "t2.micro"

  # Built from mgmt/openvpn-server/packer/openvpn-server.json in the modules repo.
  ami_id                   = "ami-REPLACE_ME"

  # The dedicated OpenVPN EC2 key pair (emergency access only; use ssh-grunt normally).
  keypair_name             = "REPLACE_ME"

  # Where the server backs up its PKI.
  backup_bucket_name       = "acme-dev-openvpn-backup"
  kms_key_arn              = dependency.kms.outputs.key_arn
  vpc_id                   = dependency.vpc.outputs.vpc_id
  subnet_id                = dependency.vpc.outputs.public_subnet_ids[0]
  allow_vpn_from_cidr_list = ["0.0.0.0/0"]

  # Users in the security account may request VPN certificates.
  external_account_arns    = ["arn:aws:iam::104983213567:root"]
}
