variable "name" {
  description = "Name of this Headrace install; prefixes every resource."
  type        = string
  default     = "headrace"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "project" {
  description = "GCP project id to install into."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project))
    error_message = "project must be a GCP project id (6-30 lower-case letters, digits and '-')."
  }
}

variable "region" {
  description = "GCP region, e.g. europe-west1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]$", var.region))
    error_message = "region must look like a GCP region, e.g. europe-west1."
  }
}

variable "zone" {
  description = "Zone of the VMs inside the region. Null: <region>-b."
  type        = string
  default     = null
}

variable "allowed_cidrs" {
  description = "CIDR ranges allowed to reach the Airflow UI over HTTPS. Required: there is no default and the whole internet is refused."
  type        = list(string)

  validation {
    condition     = length(var.allowed_cidrs) > 0
    error_message = "allowed_cidrs needs at least one CIDR, e.g. [\"203.0.113.10/32\"]."
  }
  validation {
    condition     = alltrue([for c in var.allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "every entry of allowed_cidrs must be an IPv4 CIDR such as 203.0.113.10/32."
  }
  validation {
    condition     = alltrue([for c in var.allowed_cidrs : !can(regex("/0$", c))])
    error_message = "allowed_cidrs must not contain a /0 range such as 0.0.0.0/0: the Airflow UI is never open to the whole internet."
  }
}

variable "warehouse" {
  description = "Warehouse Headrace loads into. On GCP only BigQuery is provisioned."
  type        = string
  default     = "bigquery"

  validation {
    condition     = var.warehouse == "bigquery"
    error_message = "warehouse must be \"bigquery\" on GCP."
  }
}

variable "bigquery_location" {
  description = "BigQuery location of the Headrace datasets (EU, US or a region). Null: the region."
  type        = string
  default     = null
}

variable "project_repo" {
  description = "Git URL of the Headrace project the platform runs (ssh URL with a deploy key, or https for a public repository)."
  type        = string

  validation {
    condition     = can(regex("^(https://|ssh://|git@|file://)", var.project_repo))
    error_message = "project_repo must be a git URL starting with https://, ssh://, git@ or file://."
  }
}

variable "project_branch" {
  description = "Branch of the project repository that the platform follows."
  type        = string
  default     = "main"
}

variable "headrace_wheel" {
  description = "Path of the Headrace wheel the installer built; uploaded to the bucket (artifacts/) and installed by the VMs after checking its sha256."
  type        = string

  validation {
    condition     = can(regex("^headrace-[^/]+\\.whl$", basename(var.headrace_wheel)))
    error_message = "headrace_wheel must be the path of a headrace-*.whl file (install-cloud.sh builds it)."
  }
}

variable "worker_image" {
  description = "An image pulled on the worker VM at its first start, for tasks that name an image of their own (the Headrace worker image is never pulled: the first task that needs it builds it on the worker). Empty: none."
  type        = string
  default     = ""
}

variable "subnet_cidr" {
  description = "CIDR of the Headrace subnet."
  type        = string
  default     = "10.42.0.0/20"

  validation {
    condition     = can(cidrhost(var.subnet_cidr, 0))
    error_message = "subnet_cidr must be an IPv4 CIDR."
  }
}

variable "airflow_machine_type" {
  description = "Machine type of the always-on Airflow VM (Airflow 3 and its PostgreSQL need 4 GiB)."
  type        = string
  default     = "e2-medium"
}

variable "worker_machine_type" {
  description = "Machine type of the worker VM, which runs only while tasks need it."
  type        = string
  default     = "e2-standard-2"
}

variable "image" {
  description = "Boot image of both VMs."
  type        = string
  default     = "ubuntu-os-cloud/ubuntu-2404-lts-amd64"
}

variable "disk_size_gb" {
  description = "Boot disk size of the Airflow VM in GB."
  type        = number
  default     = 30

  validation {
    condition     = var.disk_size_gb >= 20 && var.disk_size_gb <= 1024
    error_message = "disk_size_gb must be between 20 and 1024."
  }
}

variable "raw_retention_days" {
  description = "Days after which raw extracted files under raw/ are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_retention_days >= 1
    error_message = "raw_retention_days must be at least 1."
  }
}

variable "shell_members" {
  description = "IAM members (e.g. user:ops@example.com) allowed to open a shell on the VMs through IAP."
  type        = list(string)
  default     = []
}

variable "datamart_reader_members" {
  description = "IAM members allowed to impersonate the datamart reader service account (BI tools)."
  type        = list(string)
  default     = []
}

variable "protect_data" {
  description = "Keep the bucket and datasets from being destroyed with data in them. Set to false only to tear the install down."
  type        = bool
  default     = true
}

variable "admin_password_version" {
  description = "Bump to generate a new Airflow admin password on the next apply."
  type        = number
  default     = 1
}

variable "labels" {
  description = "Extra labels put on every resource."
  type        = map(string)
  default     = {}
}

variable "worker_disk_size_gb" {
  description = "Disk size of the worker VM in GB: Docker keeps the worker image (built there by the first task that needs it, ~1 GB a version) and the images tasks name."
  type        = number
  default     = 50

  validation {
    condition     = var.worker_disk_size_gb >= 20 && var.worker_disk_size_gb <= 1024
    error_message = "worker_disk_size_gb must be between 20 and 1024."
  }
}

variable "worker_idle_stop_after" {
  description = "Seconds the worker VM may run without a task before the sweeper stops it (a task that ends normally stops it at once; this catches tasks that died)."
  type        = number
  default     = 600

  validation {
    condition     = var.worker_idle_stop_after >= 60 && floor(var.worker_idle_stop_after) == var.worker_idle_stop_after
    error_message = "worker_idle_stop_after must be a whole number of seconds, at least 60."
  }
}
