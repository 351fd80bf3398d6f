# Account-wide settings, read by every unit in this account via
# read_terragrunt_config(find_in_parent_folders("account.hcl")).
locals {
  account_name = "stage"
  account_id   = "481039572864"
}
