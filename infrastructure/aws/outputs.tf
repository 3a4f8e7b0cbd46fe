output "airflow_url" {
  description = "Airflow UI (self-signed certificate until you install your own)."
  value       = "https://${aws_eip.airflow.public_ip}/"
}

output "admin_password_secret" {
  description = "Secrets Manager secret holding the password of the Airflow user 'admin'."
  value       = aws_secretsmanager_secret.admin_password.name
}

output "admin_password_command" {
  description = "Command that prints the Airflow admin password."
  value       = "aws secretsmanager get-secret-value --region ${var.region} --secret-id ${aws_secretsmanager_secret.admin_password.name} --query SecretString --output text"
}

output "deploy_key_secret" {
  description = "Secrets Manager secret to put the project's read-only SSH deploy key in."
  value       = aws_secretsmanager_secret.deploy_key.name
}

output "bucket" {
  description = "S3 bucket of the install (raw/, logs/, transformations/, datamarts/)."
  value       = aws_s3_bucket.this.bucket
}

output "airflow_instance_id" {
  description = "EC2 id of the Airflow VM; open a shell with: aws ssm start-session --target <id>."
  value       = module.airflow_vm.instance_id
}

output "worker_instance_id" {
  description = "EC2 id of the worker VM (stopped unless a task runs)."
  value       = module.worker_vm.instance_id
}

output "roles" {
  description = "IAM role ARNs per Headrace component."
  value = {
    airflow         = module.airflow_vm.role_arn
    worker          = module.worker_vm.role_arn
    transformation  = aws_iam_role.transformation.arn
    datamart_reader = aws_iam_role.datamart_reader.arn
    snowflake_stage = var.warehouse == "snowflake" ? aws_iam_role.snowflake_stage[0].arn : null
  }
}

output "warehouse" {
  description = "Warehouse connection facts (no credentials): Postgres endpoint and its RDS-managed secret, or the Snowflake stage role."
  value = var.warehouse == "postgres" ? {
    kind       = "postgres"
    endpoint   = aws_db_instance.warehouse[0].address
    port       = aws_db_instance.warehouse[0].port
    database   = aws_db_instance.warehouse[0].db_name
    secret_arn = aws_secretsmanager_secret.warehouse_password.arn
    } : {
    kind       = "snowflake"
    endpoint   = null
    port       = null
    database   = null
    secret_arn = aws_secretsmanager_secret.warehouse_password.arn
  }
}

output "kms_key_arn" {
  description = "KMS key encrypting the bucket, secrets, disks and logs."
  value       = aws_kms_key.this.arn
}

output "deployment" {
  description = "The deployment settings the VMs read (/etc/headrace/deployment.yaml): this install's storage, warehouse and secrets blocks."
  value       = module.bootstrap.deployment_yaml
}

output "headrace_wheel" {
  description = "The Headrace wheel the VMs install: its object in the bucket and its sha256."
  value       = { url = "s3://${aws_s3_bucket.this.bucket}/${aws_s3_object.headrace_wheel.key}", sha256 = local.wheel_sha256 }
}

output "warehouse_password_secret" {
  description = "Secrets Manager secret of the warehouse password (Snowflake: put the password of the Headrace user here)."
  value       = aws_secretsmanager_secret.warehouse_password.name
}
