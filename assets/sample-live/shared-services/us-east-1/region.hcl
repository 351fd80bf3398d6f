# Region-wide settings, read by every unit in this region via
# read_terragrunt_config(find_in_parent_folders("region.hcl")).
locals {
  aws_region = "us-east-1"
}
