locals {
  # Emulator mode (moto): every service goes to one local endpoint and unimplemented
  # calls fail fast instead of being retried for minutes. Three tries, not one: moto
  # sometimes closes a keep-alive connection mid-apply, which must not fail the install.
  emulator = var.endpoint != ""
  ep       = local.emulator ? var.endpoint : null
}

provider "aws" {
  region = var.region

  max_retries                 = local.emulator ? 3 : null
  skip_credentials_validation = local.emulator
  skip_metadata_api_check     = local.emulator
  skip_region_validation      = local.emulator
  skip_requesting_account_id  = false
  s3_use_path_style           = local.emulator

  endpoints {
    ec2            = local.ep
    iam            = local.ep
    kms            = local.ep
    logs           = local.ep
    rds            = local.ep
    s3             = local.ep
    secretsmanager = local.ep
    ssm            = local.ep
    sts            = local.ep
  }

  default_tags {
    tags = local.tags
  }
}
