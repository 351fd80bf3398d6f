"""How to install each external tool: one sentence per tool, used by `doctor` and the runner."""

from __future__ import annotations

TOOL_HINTS = {
    "packer": "Install Packer (Debian: `apt-get install packer`, or HashiCorp's releases) to build AMIs.",
    "docker": "Install Docker Engine and make sure `docker info` works, to build and push images.",
    "terragrunt": "Install terragrunt (https://terragrunt.gruntwork.io/docs/getting-started/install/); "
    "without it the sandbox rehearses the apply instead.",
    "terraform": "Install Terraform or OpenTofu (tofu); terragrunt needs one of them.",
    "tofu": "Install OpenTofu or Terraform; terragrunt needs one of them.",
}
