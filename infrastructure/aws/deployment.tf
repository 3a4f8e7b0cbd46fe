# What the runtime uses: the Headrace wheel the VMs install, and the deployment settings
# (/etc/headrace/deployment.yaml) that point the project at this install's bucket,
# warehouse, secret store and worker VM. This file is the one place that writes those settings.

# ---- the Headrace wheel, built by the installer and kept in the install's own bucket ----

locals {
  wheel_sha256 = filesha256(var.headrace_wheel)
  wheel_key    = "artifacts/${substr(local.wheel_sha256, 0, 16)}/${basename(var.headrace_wheel)}"
  extras       = "airflow,${var.warehouse},s3,aws"
}

resource "aws_s3_object" "headrace_wheel" {
  bucket       = aws_s3_bucket.this.id
  key          = local.wheel_key
  source       = var.headrace_wheel
  source_hash  = local.wheel_sha256
  content_type = "application/zip"
  metadata     = { sha256 = local.wheel_sha256 }

  # Encrypted by the bucket's default KMS key: put only once it exists.
  depends_on = [aws_s3_bucket_versioning.this, aws_s3_bucket_server_side_encryption_configuration.this]
}

# ---- secrets the warehouse block names (values never in Terraform files or state) ------

# ${secret:NAME} resolves to the Secrets Manager secret <project_secret_prefix>NAME; the
# project's own secrets (source passwords) go under the same prefix.
ephemeral "aws_secretsmanager_random_password" "warehouse" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "warehouse_password" {
  #checkov:skip=CKV2_AWS_57:Rotated by re-running the installer with a bumped warehouse_password_version (RDS) or in Snowflake, then here.
  name                    = "${local.project_secret_prefix}${var.warehouse}_password"
  description             = var.warehouse == "postgres" ? "Password of the RDS warehouse user headrace_admin" : "Password of the Snowflake user Headrace loads as: put it here after the install"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = var.secret_recovery_window_days
}

# RDS: the same generated password is the master password (write-only) and the secret.
resource "aws_secretsmanager_secret_version" "warehouse_password" {
  count = var.warehouse == "postgres" ? 1 : 0

  secret_id                = aws_secretsmanager_secret.warehouse_password.id
  secret_string_wo         = ephemeral.aws_secretsmanager_random_password.warehouse.random_password
  secret_string_wo_version = var.warehouse_password_version
}

# ---- the deployment settings ---------------------------------------------------------------

locals {
  emulator_endpoint = local.emulator ? { endpoint_url = var.endpoint } : {}

  deployment = {
    storage = merge({ type = "s3", bucket = aws_s3_bucket.this.bucket, region = var.region }, local.emulator_endpoint)
    warehouse = var.warehouse == "postgres" ? {
      type     = "postgres"
      host     = aws_db_instance.warehouse[0].address
      port     = aws_db_instance.warehouse[0].port
      database = aws_db_instance.warehouse[0].db_name
      user     = aws_db_instance.warehouse[0].username
      password = "$${secret:postgres_password}"
      sslmode  = "require"
      } : merge({
        type      = "snowflake"
        account   = var.snowflake.account
        user      = var.snowflake.user
        password  = "$${secret:snowflake_password}"
        role      = var.snowflake.role
        warehouse = var.snowflake.warehouse
        database  = var.snowflake.database
    }, var.snowflake.storage_integration == null ? {} : { storage_integration = var.snowflake.storage_integration })
    secrets = merge({ type = "aws", region = var.region, prefix = local.project_secret_prefix }, local.emulator_endpoint)
  }
}

# The worker: block of the Airflow VM's deployment file (the bootstrap module adds the
# worker's address and the SSH login it sets up). Tasks start the instance, run their container on its Docker engine over
# SSH and stop it again (toolkit/workers/vm/aws); the Airflow role may start and stop this
# instance only (iam.tf, StartAndStopTheWorker).
locals {
  worker = merge({
    type        = "aws_vm"
    instance_id = module.worker_vm.instance_id
    region      = var.region
    # The sweeper stops the worker after this many seconds without a task (a task that ends
    # normally stops it at once).
    idle_stop_after = var.worker_idle_stop_after
  }, local.emulator_endpoint)
}
