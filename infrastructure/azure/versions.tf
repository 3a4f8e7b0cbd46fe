terraform {
  # 1.11: write-only arguments keep generated passwords out of the state.
  required_version = ">= 1.11, < 2.0"

  # State lives outside the repository: install-cloud.sh passes
  # -backend-config=path=<state dir>/terraform.tfstate. Swap in a remote backend here.
  backend "local" {}

  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.30"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}
