resource "aws_iam_role" "this" {
  name        = var.name
  description = "Role of the ${var.name} VM"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "this" {
  name   = "${var.name}-least-privilege"
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

# Shell access goes through SSM Session Manager: no SSH port is open to any network.
resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.this.name
  policy_arn = var.ssm_managed_policy_arn
}

resource "aws_iam_instance_profile" "this" {
  name = var.name
  role = aws_iam_role.this.name
}

resource "aws_instance" "this" {
  #checkov:skip=CKV_AWS_126:Detailed (1-minute) monitoring is billed per instance; the 5-minute basic metrics are enough for two VMs.
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_id
  private_ip             = var.private_ip
  vpc_security_group_ids = var.security_group_ids
  iam_instance_profile   = aws_iam_instance_profile.this.name
  user_data              = var.user_data
  ebs_optimized          = true

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.disk_size_gb
    encrypted   = true
    kms_key_id  = var.kms_key_arn
  }

  tags = { Name = var.name, "headrace:role" = var.role }

  lifecycle {
    # A newer Ubuntu AMI or bootstrap must not replace or restart a running Airflow
    # (cloud-init runs once per instance): see docs/install-cloud.md, "Upgrades".
    ignore_changes = [ami, user_data]
  }
}
