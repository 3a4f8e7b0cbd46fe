terraform {
  # 1.11 brings write-only arguments: the generated Airflow admin password goes to
  # Secrets Manager without ever being written to the Terraform state.
  required_version = ">= 1.11, < 2.0"

  # State lives outside the repository: install-cloud.sh passes
  # -backend-config=path=<state dir>/terraform.tfstate. Swap in a remote backend here.
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
