# One role per Headrace component, each with only what it needs on this install's
# bucket, key and secrets. Bucket access is always scoped to the bucket ARN and a prefix.

locals {
  bucket_arn = aws_s3_bucket.this.arn
  # The secrets the project resolves at run time: <name>/project/* (Secrets Manager appends
  # a random suffix to secret ARNs).
  project_secrets_arn = "arn:${local.partition}:secretsmanager:${var.region}:${local.account_id}:secret:${local.project_secret_prefix}*"
}

data "aws_iam_policy_document" "airflow" {
  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"]
    resources = [local.bucket_arn]
  }
  statement {
    # Everything: raw files to load, logs, datamarts and the Headrace wheel (artifacts/).
    sid       = "ReadEverythingInBucket"
    actions   = ["s3:GetObject", "s3:GetObjectVersion"]
    resources = ["${local.bucket_arn}/*"]
  }
  statement {
    # raw/: tasks that run on this VM extract there, and loads delete the runs they no longer keep.
    sid       = "WriteRawFilesTaskLogsAndDatamartExports"
    actions   = ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/raw/*", "${local.bucket_arn}/logs/*", "${local.bucket_arn}/datamarts/*"]
  }
  statement {
    sid       = "UseInstallKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid     = "ReadOwnSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [
      aws_secretsmanager_secret.admin_password.arn,
      aws_secretsmanager_secret.deploy_key.arn,
      aws_secretsmanager_secret.worker_ssh_private.arn,
      aws_secretsmanager_secret.worker_ssh_host_key.arn,
    ]
  }
  statement {
    # ${secret:NAME} of the project (deployment.yaml's secrets block): the warehouse
    # password and the project's own source credentials, nothing else of the account.
    sid       = "ReadProjectSecrets"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [local.project_secrets_arn]
  }
  statement {
    # Credentials Headrace creates (datamart readers) are secrets under the same prefix.
    sid       = "KeepCreatedCredentials"
    actions   = ["secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret", "secretsmanager:TagResource"]
    resources = [local.project_secrets_arn]
  }
  statement {
    sid     = "PublishWorkerKeys"
    actions = ["secretsmanager:PutSecretValue"]
    resources = [
      aws_secretsmanager_secret.worker_ssh_private.arn,
      aws_secretsmanager_secret.worker_ssh_public.arn,
      aws_secretsmanager_secret.worker_ssh_host_key.arn,
    ]
  }
  statement {
    sid       = "StartAndStopTheWorker"
    actions   = ["ec2:StartInstances", "ec2:StopInstances"]
    resources = [module.worker_vm.instance_arn]
  }
  statement {
    # Describe calls have no resource-level permissions in EC2.
    sid       = "SeeInstanceStates"
    actions   = ["ec2:DescribeInstances", "ec2:DescribeInstanceStatus"]
    resources = ["*"]
  }
  statement {
    sid       = "HandTransformationsTheirRole"
    actions   = ["sts:AssumeRole"]
    resources = [aws_iam_role.transformation.arn]
  }
}

data "aws_iam_policy_document" "worker" {
  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "WriteExtractedFiles"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${local.bucket_arn}/raw/*"]
  }
  statement {
    sid       = "UseInstallKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
  }
  statement {
    sid       = "ReadAirflowPublicKeyAndOwnHostKey"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.worker_ssh_public.arn, aws_secretsmanager_secret.worker_ssh_host_key.arn]
  }
  statement {
    sid       = "HandTransformationsTheirRole"
    actions   = ["sts:AssumeRole"]
    resources = [aws_iam_role.transformation.arn]
  }
}

# ---- transformation: container transformations read raw/ and own transformations/ -----

resource "aws_iam_role" "transformation" {
  name        = "${var.name}-transformation"
  description = "Headrace container transformations: read raw files, write their own scratch prefix"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "transformation" {
  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
  }
  statement {
    sid       = "ReadRawFiles"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/raw/*"]
  }
  statement {
    sid       = "OwnScratchPrefix"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = ["${local.bucket_arn}/transformations/*"]
  }
  statement {
    sid       = "UseInstallKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "transformation" {
  name   = "${var.name}-transformation"
  role   = aws_iam_role.transformation.id
  policy = data.aws_iam_policy_document.transformation.json
}

# ---- datamart reader: read-only on the datamart exports --------------------------------

resource "aws_iam_role" "datamart_reader" {
  name        = "${var.name}-datamart-reader"
  description = "Headrace datamart consumers (BI tools): read-only on datamart exports"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect = "Allow"
      Principal = { AWS = length(var.datamart_reader_principals) > 0 ? var.datamart_reader_principals : [
        "arn:${local.partition}:iam::${local.account_id}:root"
      ] }
      Action = "sts:AssumeRole"
    }]
  })
}

data "aws_iam_policy_document" "datamart_reader" {
  statement {
    sid       = "ListDatamarts"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["datamarts/*"]
    }
  }
  statement {
    sid       = "ReadDatamarts"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/datamarts/*"]
  }
  statement {
    sid       = "DecryptDatamarts"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.this.arn]
  }
}

resource "aws_iam_role_policy" "datamart_reader" {
  name   = "${var.name}-datamart-reader"
  role   = aws_iam_role.datamart_reader.id
  policy = data.aws_iam_policy_document.datamart_reader.json
}
