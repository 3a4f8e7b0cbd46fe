data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

# A closed set of two zones: the stack never moves when AWS adds a zone to the region.
data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "zone-name"
    values = coalesce(var.availability_zones, ["${var.region}a", "${var.region}b"])
  }
}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  azs        = slice(data.aws_availability_zones.available.names, 0, 2)

  tags = merge(var.tags, {
    "headrace:install" = var.name
    "managed-by"       = "terraform"
  })

  bucket_name   = "${var.name}-${local.account_id}-${var.region}"
  secret_prefix = "${var.name}/"
  # Secrets the project resolves at run time (${secret:NAME} -> <prefix>NAME).
  project_secret_prefix = "${var.name}/project/"
}
