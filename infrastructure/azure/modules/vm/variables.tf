variable "name" {
  description = "Name of the VM and its network interface."
  type        = string
}

variable "role" {
  description = "Headrace component the VM serves (airflow or worker); tagged as headrace-role."
  type        = string

  validation {
    condition     = contains(["airflow", "worker"], var.role)
    error_message = "role must be airflow or worker."
  }
}

variable "resource_group_name" {
  description = "Resource group of the VM."
  type        = string
}

variable "location" {
  description = "Azure region."
  type        = string
}

variable "size" {
  description = "Azure VM size, e.g. Standard_B2s."
  type        = string
}

variable "subnet_id" {
  description = "Subnet of the network interface."
  type        = string
}

variable "private_ip" {
  description = "Fixed private IP; null lets Azure pick one."
  type        = string
  default     = null
}

variable "public_ip_id" {
  description = "Public IP resource id; null means no public IP at all."
  type        = string
  default     = null
}

variable "identity_id" {
  description = "User-assigned managed identity the VM runs as."
  type        = string
}

variable "admin_ssh_public_key" {
  description = "Break-glass admin public key (Azure requires one when passwords are off)."
  type        = string
}

variable "user_data" {
  description = "cloud-init user data (plain text)."
  type        = string
}

variable "disk_size_gb" {
  description = "OS disk size in GiB."
  type        = number
}

variable "tags" {
  description = "Tags of the VM and its NIC."
  type        = map(string)
}
