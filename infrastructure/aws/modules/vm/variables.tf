variable "name" {
  description = "Name of the VM; also names its IAM role and instance profile."
  type        = string
}

variable "ami_id" {
  description = "AMI the VM boots from."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type."
  type        = string
}

variable "subnet_id" {
  description = "Subnet the VM's network interface lives in."
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the VM."
  type        = list(string)
}

variable "user_data" {
  description = "cloud-init user data (plain text; the provider encodes it)."
  type        = string
}

variable "kms_key_arn" {
  description = "KMS key encrypting the root disk."
  type        = string
}

variable "disk_size_gb" {
  description = "Root disk size in GiB."
  type        = number
}

variable "policy_json" {
  description = "Inline IAM policy of the VM's role: exactly what the component needs."
  type        = string
}

variable "ssm_managed_policy_arn" {
  description = "ARN of AmazonSSMManagedInstanceCore, which makes the VM reachable through SSM Session Manager instead of SSH."
  type        = string
}

variable "role" {
  description = "Headrace component the VM serves (airflow or worker); tagged as headrace:role."
  type        = string

  validation {
    condition     = contains(["airflow", "worker"], var.role)
    error_message = "role must be airflow or worker."
  }
}

variable "private_ip" {
  description = "Fixed private IP inside the subnet; null lets AWS pick one."
  type        = string
  default     = null
}
