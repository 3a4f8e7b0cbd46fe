variable "cloud" {
  description = "Cloud the VMs run on; picks the secret-store helpers."
  type        = string

  validation {
    condition     = contains(["aws", "gcp", "azure"], var.cloud)
    error_message = "cloud must be aws, gcp or azure."
  }
}

variable "artifact" {
  description = "The Headrace wheel the installer published to the install's bucket: its URL (s3://, gs:// or https:// on Azure Blob), sha256 and the pip extras of this install's backends. The VM fetches it with its own identity, checks the hash and installs that file, never a package by name from an index."
  type = object({
    url    = string
    sha256 = string
    extras = string
  })

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.artifact.sha256))
    error_message = "artifact.sha256 must be 64 lower-case hex digits."
  }
  validation {
    condition     = can(regex("^(s3|gs|https)://[^\\s\"$`]+/headrace-[^/\\s\"$`]+\\.whl$", var.artifact.url))
    error_message = "artifact.url must be an s3://, gs:// or https:// URL of a headrace-*.whl file, without quotes, '$' or backticks."
  }
  validation {
    condition     = can(regex("^[a-z0-9,_-]*$", var.artifact.extras))
    error_message = "artifact.extras must be a comma-separated list of extras such as airflow,snowflake,s3."
  }
}

variable "deployment" {
  description = "The warehouse, storage and secrets blocks of this install, written to /etc/headrace/deployment.yaml on both VMs (named by HEADRACE_DEPLOYMENT) and laid over the project's project.yaml. Secret values only as $${secret:NAME} references."
  type        = any

  validation {
    condition     = length(setsubtract(keys(var.deployment), ["warehouse", "storage", "secrets"])) == 0
    error_message = "deployment may only hold the blocks warehouse, storage and secrets."
  }
}

variable "worker" {
  description = "The worker: block of the Airflow VM's deployment file without its address and SSH login (type, the instance, idle_stop_after): the module adds host (worker_host), ssh_user and ssh_key_file, the login it sets up. Null: no worker block."
  type        = any
  default     = null

  validation {
    condition     = var.worker == null ? true : can(regex("^(aws|gcp|azure)_vm$", var.worker.type))
    error_message = "worker.type must be aws_vm, gcp_vm or azure_vm."
  }
  validation {
    condition     = var.worker == null ? true : length(setintersection(keys(var.worker), ["host", "ssh_user", "ssh_key_file"])) == 0
    error_message = "worker must not set host, ssh_user or ssh_key_file: the module sets them (worker_host and the login it creates)."
  }
}

variable "worker_host" {
  description = "The worker VM's fixed private address: the worker block's host, and the name the Airflow VM's known_hosts gives the worker's host key. A separate variable, not worker.host: the worker's own user data reads it, and the worker block names the instance."
  type        = string
  default     = ""

  validation {
    condition     = var.worker_host == "" || can(cidrhost("${var.worker_host}/32", 0))
    error_message = "worker_host must be an IPv4 address (or empty)."
  }
}

variable "airflow_providers" {
  description = "Extra pip requirements for Airflow (the provider that writes task logs to the bucket)."
  type        = list(string)
}

variable "project_repo" {
  description = "Git URL of the Headrace project."
  type        = string

  validation {
    condition     = !can(regex("[\"\\\\$`\n]", var.project_repo))
    error_message = "project_repo must not contain quotes, backslashes, '$', backticks or newlines."
  }
}

variable "project_branch" {
  description = "Branch of the project that the platform follows."
  type        = string

  validation {
    condition     = !can(regex("[\"\\\\$`\n]", var.project_branch))
    error_message = "project_branch must not contain quotes, backslashes, '$', backticks or newlines."
  }
}

variable "worker_image" {
  description = "An image pulled on the worker VM at its first start, for tasks that name an image of their own; empty for none. The Headrace worker image is never pulled: the first task that needs it builds it on the worker's engine."
  type        = string
  default     = ""

  validation {
    condition     = !can(regex("[\"\\\\$`\n]", var.worker_image))
    error_message = "worker_image must not contain quotes, backslashes, '$', backticks or newlines."
  }
}

variable "secrets" {
  description = "Names (or ids) of the secrets in the cloud's secret store."
  type = object({
    admin_password     = string
    deploy_key         = string
    worker_ssh_private = string
    worker_ssh_public  = string
    # The worker's SSH host key: made by the Airflow VM, installed by the worker.
    worker_ssh_host_key = string
  })
}

variable "remote_log_folder" {
  description = "Airflow remote_base_log_folder: where task logs go in the bucket."
  type        = string
}

variable "remote_log_conn_id" {
  description = "Airflow connection id used to write the task logs."
  type        = string
}

variable "public_host" {
  description = "Public IP or DNS name of the Airflow VM (certificate subject and Airflow's base URL); empty when not known before boot."
  type        = string
  default     = ""
}

variable "airflow_source_cidr" {
  description = "CIDR the Airflow VM reaches the worker from (restricts the worker's authorized key)."
  type        = string
}

variable "headrace_env" {
  description = "Extra cloud-specific settings written to /etc/headrace/env (bucket URL, worker id, ...)."
  type        = map(string)
  default     = {}
}

variable "bootstrap_env" {
  description = "Extra settings only the bootstrap reads (project id, key vault name, ...)."
  type        = map(string)
  default     = {}
}
