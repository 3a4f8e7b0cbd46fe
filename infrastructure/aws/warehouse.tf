# ---- Snowflake: the role a Snowflake storage integration assumes to read raw/ ----------
#
# 1. apply (the role trusts this account until Snowflake's user is known);
# 2. in Snowflake: CREATE STORAGE INTEGRATION ... STORAGE_AWS_ROLE_ARN = <snowflake_stage_role_arn>
#    STORAGE_ALLOWED_LOCATIONS = ('<bucket>/raw/'); DESC INTEGRATION;
# 3. re-run the installer with --snowflake-iam-user-arn and --snowflake-external-id.

resource "aws_iam_role" "snowflake_stage" {
  count = var.warehouse == "snowflake" ? 1 : 0

  name        = "${var.name}-snowflake-stage"
  description = "Assumed by the Snowflake storage integration: read-only on raw/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [merge({
      Effect    = "Allow"
      Principal = { AWS = coalesce(var.snowflake_iam_user_arn, "arn:${local.partition}:iam::${local.account_id}:root") }
      Action    = "sts:AssumeRole"
      }, var.snowflake_external_id == null ? {} : {
      Condition = { StringEquals = { "sts:ExternalId" = var.snowflake_external_id } }
    })]
  })
}

data "aws_iam_policy_document" "snowflake_stage" {
  statement {
    sid       = "ListRawFiles"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["raw/*"]
    }
  }
  statement {
    sid       = "ReadRawFiles"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.bucket_arn}/raw/*"]
  }
  statement {
    sid       = "DecryptRawFiles"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "snowflake_stage" {
  count = var.warehouse == "snowflake" ? 1 : 0

  name   = "${var.name}-snowflake-stage"
  role   = aws_iam_role.snowflake_stage[0].id
  policy = data.aws_iam_policy_document.snowflake_stage.json
}

# ---- PostgreSQL: RDS in the private subnets, reachable from the two VMs only ------------

resource "aws_security_group" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  name        = "${var.name}-postgres"
  description = "Headrace Postgres warehouse: from the Airflow and worker VMs only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-postgres" }
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each = var.warehouse == "postgres" ? {
    airflow = aws_security_group.airflow.id
    worker  = aws_security_group.worker.id
  } : {}

  security_group_id            = aws_security_group.postgres[0].id
  description                  = "Postgres from the ${each.key} VM"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = each.value
}

resource "aws_db_subnet_group" "warehouse" {
  count = var.warehouse == "postgres" ? 1 : 0

  name       = "${var.name}-warehouse"
  subnet_ids = aws_subnet.private[*].id
}

resource "aws_db_parameter_group" "warehouse" {
  count = var.warehouse == "postgres" ? 1 : 0

  name   = "${var.name}-warehouse"
  family = "postgres16"

  parameter {
    name  = "log_min_duration_statement"
    value = "10000"
  }
  parameter {
    name         = "rds.force_ssl"
    value        = "1"
    apply_method = "pending-reboot"
  }
}

resource "aws_db_instance" "warehouse" {
  #checkov:skip=CKV_AWS_157:Multi-AZ doubles the warehouse cost; raise it with a bigger install. Backups cover a zone failure.
  #checkov:skip=CKV_AWS_118:Enhanced monitoring needs its own IAM role and is billed; Performance Insights is on.
  #checkov:skip=CKV_AWS_161:Headrace connects with the master secret kept by RDS in Secrets Manager; IAM auth tokens expire every 15 minutes under long loads.
  count = var.warehouse == "postgres" ? 1 : 0

  identifier     = "${var.name}-warehouse"
  engine         = "postgres"
  engine_version = "16"
  instance_class = var.postgres_instance_class
  db_name        = "headrace"
  username       = "headrace_admin"

  # Generated at apply time and written only to RDS and the secret <name>/project/postgres_password
  # (deployment.tf): never in the plan or the state.
  password_wo         = ephemeral.aws_secretsmanager_random_password.warehouse.random_password
  password_wo_version = var.warehouse_password_version

  allocated_storage     = var.postgres_storage_gb
  max_allocated_storage = var.postgres_storage_gb * 4
  storage_type          = "gp3"
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.this.arn

  db_subnet_group_name   = aws_db_subnet_group.warehouse[0].name
  parameter_group_name   = aws_db_parameter_group.warehouse[0].name
  vpc_security_group_ids = [aws_security_group.postgres[0].id]
  publicly_accessible    = false

  backup_retention_period         = 7
  copy_tags_to_snapshot           = true
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  performance_insights_kms_key_id = aws_kms_key.this.arn
  enabled_cloudwatch_logs_exports = ["postgresql", "upgrade"]
  deletion_protection             = var.protect_data
  skip_final_snapshot             = !var.protect_data
  final_snapshot_identifier       = var.protect_data ? "${var.name}-warehouse-final" : null
  apply_immediately               = false
}
