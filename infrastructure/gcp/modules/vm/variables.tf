variable "name" {
  description = "Name of the VM."
  type        = string
}

variable "role" {
  description = "Headrace component the VM serves (airflow or worker); set as the headrace-role label."
  type        = string

  validation {
    condition     = contains(["airflow", "worker"], var.role)
    error_message = "role must be airflow or worker."
  }
}

variable "zone" {
  description = "Zone of the VM."
  type        = string
}

variable "machine_type" {
  description = "Machine type."
  type        = string
}

variable "image" {
  description = "Boot image."
  type        = string
}

variable "disk_size_gb" {
  description = "Boot disk size in GB."
  type        = number
}

variable "subnetwork" {
  description = "Subnetwork self link or id."
  type        = string
}

variable "network_ip" {
  description = "Fixed internal IP; null lets GCP pick one."
  type        = string
  default     = null
}

variable "external_ip" {
  description = "Reserved external address for the VM; null means no external IP at all."
  type        = string
  default     = null
}

variable "service_account_email" {
  description = "Service account the VM runs as."
  type        = string
}

variable "user_data" {
  description = "cloud-init user data."
  type        = string
}

variable "desired_status" {
  description = "RUNNING, or TERMINATED for a VM that is created and then stopped."
  type        = string
  default     = "RUNNING"

  validation {
    condition     = contains(["RUNNING", "TERMINATED"], var.desired_status)
    error_message = "desired_status must be RUNNING or TERMINATED."
  }
}
