data "aws_ssm_parameter" "ubuntu" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
}

locals {
  # AWS-managed policy that lets SSM Session Manager reach the VMs (shells without SSH).
  ssm_core_policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"

  # Fixed address: Airflow's settings name the worker before it exists.
  worker_private_ip = cidrhost(aws_subnet.private[0].cidr_block, 10)
  ami_id            = var.ami_id != null ? var.ami_id : nonsensitive(data.aws_ssm_parameter.ubuntu[0].value)
}

# ---- security groups: the UI from allowed_cidrs only; no SSH from any network --------

resource "aws_security_group" "airflow" {
  #checkov:skip=CKV2_AWS_5:Attached to the Airflow VM through module.airflow_vm (checkov does not follow module inputs).
  name        = "${var.name}-airflow"
  description = "Headrace Airflow VM: HTTPS UI from allowed CIDRs only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-airflow" }
}

resource "aws_vpc_security_group_ingress_rule" "airflow_https" {
  for_each = toset(var.allowed_cidrs)

  security_group_id = aws_security_group.airflow.id
  description       = "Airflow UI over HTTPS from ${each.value}"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = each.value
}

# Egress: package mirrors and PyPI (80/443), git over SSH (22), the warehouse and the worker.
resource "aws_vpc_security_group_egress_rule" "airflow_internet" {
  for_each = { https = 443, http = 80, git-ssh = 22 }

  security_group_id = aws_security_group.airflow.id
  description       = "Outbound ${each.key}"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "airflow_vpc" {
  for_each = { worker-ssh = 22, postgres = 5432 }

  security_group_id = aws_security_group.airflow.id
  description       = "To ${each.key} inside the VPC"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_security_group" "worker" {
  #checkov:skip=CKV2_AWS_5:Attached to the worker VM through module.worker_vm (checkov does not follow module inputs).
  name        = "${var.name}-worker"
  description = "Headrace worker VM: SSH from the Airflow VM's security group only"
  vpc_id      = aws_vpc.this.id
  tags        = { Name = "${var.name}-worker" }
}

# Airflow runs task containers on the worker over SSH (Docker SDK). Only the Airflow
# security group may connect; no CIDR is allowed in.
resource "aws_vpc_security_group_ingress_rule" "worker_ssh_from_airflow" {
  #checkov:skip=CKV_AWS_24:The source is the Airflow security group, not 0.0.0.0/0 (checkov reads any port-22 rule without a CIDR as open).
  security_group_id            = aws_security_group.worker.id
  description                  = "SSH from the Airflow VM only"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
  referenced_security_group_id = aws_security_group.airflow.id
}

resource "aws_vpc_security_group_egress_rule" "worker_internet" {
  for_each = { https = 443, http = 80 }

  security_group_id = aws_security_group.worker.id
  description       = "Outbound ${each.key} through the NAT gateway"
  ip_protocol       = "tcp"
  from_port         = each.value
  to_port           = each.value
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_egress_rule" "worker_postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  security_group_id = aws_security_group.worker.id
  description       = "To the Postgres warehouse"
  ip_protocol       = "tcp"
  from_port         = 5432
  to_port           = 5432
  cidr_ipv4         = var.vpc_cidr
}

# ---- VMs ------------------------------------------------------------------------------

# The Airflow VM's public address exists before the VM, so the certificate and Airflow's
# base URL can name it.
resource "aws_eip" "airflow" {
  domain = "vpc"
  tags   = { Name = "${var.name}-airflow" }
}

module "bootstrap" {
  source = "../modules/bootstrap"

  cloud = "aws"
  artifact = {
    url    = "s3://${aws_s3_bucket.this.bucket}/${aws_s3_object.headrace_wheel.key}"
    sha256 = local.wheel_sha256
    extras = local.extras
  }
  deployment        = local.deployment
  worker            = local.worker
  worker_host       = local.worker_private_ip
  airflow_providers = ["apache-airflow-providers-amazon"]
  project_repo      = var.project_repo
  project_branch    = var.project_branch
  worker_image      = var.worker_image
  secrets = {
    admin_password      = aws_secretsmanager_secret.admin_password.name
    deploy_key          = aws_secretsmanager_secret.deploy_key.name
    worker_ssh_private  = aws_secretsmanager_secret.worker_ssh_private.name
    worker_ssh_public   = aws_secretsmanager_secret.worker_ssh_public.name
    worker_ssh_host_key = aws_secretsmanager_secret.worker_ssh_host_key.name
  }
  remote_log_folder   = "s3://${aws_s3_bucket.this.bucket}/logs/airflow"
  remote_log_conn_id  = "aws_default"
  public_host         = aws_eip.airflow.public_ip
  airflow_source_cidr = aws_subnet.public.cidr_block
  headrace_env = {
    AWS_DEFAULT_REGION               = var.region
    HEADRACE_STORAGE_URL             = "s3://${aws_s3_bucket.this.bucket}"
    HEADRACE_TRANSFORMATION_ROLE_ARN = aws_iam_role.transformation.arn
  }
  bootstrap_env = {
    AWS_DEFAULT_REGION = var.region
  }
}

module "airflow_vm" {
  source = "./modules/vm"

  name                   = "${var.name}-airflow"
  role                   = "airflow"
  ami_id                 = local.ami_id
  instance_type          = var.airflow_instance_type
  subnet_id              = aws_subnet.public.id
  security_group_ids     = [aws_security_group.airflow.id]
  user_data              = module.bootstrap.airflow_user_data
  kms_key_arn            = aws_kms_key.this.arn
  disk_size_gb           = var.disk_size_gb
  policy_json            = data.aws_iam_policy_document.airflow.json
  ssm_managed_policy_arn = local.ssm_core_policy_arn
}

resource "aws_eip_association" "airflow" {
  allocation_id = aws_eip.airflow.id
  instance_id   = module.airflow_vm.instance_id
}

module "worker_vm" {
  source = "./modules/vm"

  name                   = "${var.name}-worker"
  role                   = "worker"
  ami_id                 = local.ami_id
  instance_type          = var.worker_instance_type
  subnet_id              = aws_subnet.private[0].id
  private_ip             = local.worker_private_ip
  security_group_ids     = [aws_security_group.worker.id]
  user_data              = module.bootstrap.worker_user_data
  kms_key_arn            = aws_kms_key.this.arn
  disk_size_gb           = var.worker_disk_size_gb
  policy_json            = data.aws_iam_policy_document.worker.json
  ssm_managed_policy_arn = local.ssm_core_policy_arn
}

# The worker is created, bootstrapped, then stopped: Airflow starts it when a task needs it
# and stops it afterwards, so Terraform does not fight over its state later.
resource "aws_ec2_instance_state" "worker" {
  instance_id = module.worker_vm.instance_id
  state       = "stopped"

  lifecycle {
    ignore_changes = [state]
  }
}
