# Account-wide settings, read by every unit in this account via
# read_terragrunt_config(find_in_parent_folders("account.hcl")).
locals {
  account_name = "security"
  account_id   = "104983213567"
}
