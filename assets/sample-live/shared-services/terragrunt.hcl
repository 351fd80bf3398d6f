# ---------------------------------------------------------------------------------------------------------------------
# ROOT TERRAGRUNT CONFIGURATION FOR THE SHARED-SERVICES ACCOUNT
# Every unit below this folder includes this file with `include { path = find_in_parent_folders() }`.
# It has no terraform { source } of its own, so it is not a runnable unit.
# ---------------------------------------------------------------------------------------------------------------------

# Terraform state for this account lives in its own S3 bucket, with a DynamoDB table for locking
# (seed: "Configure Terraform backends"). Fill in the bucket and table names before the first apply;
# Terragrunt creates them if they don't exist yet.
remote_state {
  backend = "s3"
  config = {
    # One bucket per account, e.g. "acme-shared-services-terraform-state" (bucket names are global across AWS).
    bucket = "REPLACE_ME_TERRAFORM_STATE_BUCKET"
    # Each unit stores its state under its own path inside the bucket.
    key     = "${path_relative_to_include()}/terraform.tfstate"
    region  = "us-east-1"
    encrypt = true
    # One lock table per account, e.g. "acme-shared-services-terraform-locks".
    dynamodb_table = "REPLACE_ME_TERRAFORM_LOCKS_TABLE"
  }
}
