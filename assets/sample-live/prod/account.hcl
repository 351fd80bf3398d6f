# Account-wide settings, read by every unit in this account via
# read_terragrunt_config(find_in_parent_folders("account.hcl")).
locals {
  account_name = "prod"
  account_id   = "596120384729"
}
