terraform {
  # 1.11 brings write-only arguments: the generated Airflow admin password goes to
  # Secrets Manager without ever being written to the Terraform state.
  required_version = ">= 1.11, < 2.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}
