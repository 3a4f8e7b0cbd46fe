variable "name" {
  description = "Name of this Headrace install; prefixes every resource (letters and digits only, as storage account and Key Vault names allow)."
  type        = string
  default     = "headrace"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name))
    error_message = "name must be 3-12 lower-case letters and digits, starting with a letter."
  }
}

variable "subscription_id" {
  description = "Azure subscription id to install into."
  type        = string

  validation {
    condition     = can(regex("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription GUID (az account show --query id)."
  }
}

variable "location" {
  description = "Azure region, e.g. westeurope."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]+$", var.location))
    error_message = "location must be an Azure region name such as westeurope (az account list-locations -o table)."
  }
}

variable "allowed_cidrs" {
  description = "CIDR ranges allowed to reach the Airflow UI over HTTPS, and the Key Vault and storage account for the installer. Required: there is no default and the whole internet is refused."
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
  description = "Warehouse Headrace loads into: \"snowflake\" (an existing Snowflake account reads the container) or \"postgres\" (an Azure Database for PostgreSQL flexible server created here)."
  type        = string
  default     = "snowflake"

  validation {
    condition     = contains(["snowflake", "postgres"], var.warehouse)
    error_message = "warehouse must be \"snowflake\" or \"postgres\" on Azure."
  }
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

variable "snowflake" {
  description = "The Snowflake account Headrace loads into when warehouse = \"snowflake\" (its password goes into the Key Vault secret snowflake-password after the install)."
  type = object({
    account   = optional(string)
    user      = optional(string, "HEADRACE")
    role      = optional(string, "HEADRACE")
    warehouse = optional(string, "HEADRACE")
    database  = optional(string, "HEADRACE")
    # the storage integration over this install's bucket (see below); null: loads PUT the files
    storage_integration = optional(string)
  })
  default = {}

  validation {
    condition     = var.warehouse != "snowflake" || try(length(var.snowflake.account) > 0, false)
    error_message = "with warehouse = \"snowflake\" give the account: --var 'snowflake={\"account\": \"ORG-ACCOUNT\"}' (user, role, warehouse and database default to HEADRACE)."
  }
}

variable "worker_image" {
  description = "An image pulled on the worker VM at its first start, for tasks that name an image of their own (the Headrace worker image is never pulled: the first task that needs it builds it on the worker). Empty: none."
  type        = string
  default     = ""
}

variable "vnet_cidr" {
  description = "Address space of the Headrace virtual network."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vnet_cidr, 0)) && tonumber(split("/", var.vnet_cidr)[1]) <= 20
    error_message = "vnet_cidr must be an IPv4 CIDR of size /20 or larger."
  }
}

variable "airflow_vm_size" {
  description = "Size of the always-on Airflow VM (Airflow 3 and its PostgreSQL need 4 GiB)."
  type        = string
  default     = "Standard_B2s"
}

variable "worker_vm_size" {
  description = "Size of the worker VM, which is deallocated unless tasks need it."
  type        = string
  default     = "Standard_D2s_v5"
}

variable "admin_ssh_public_key" {
  description = "Public key of the VMs' break-glass admin user (Azure requires one when passwords are off). The installer generates it; shells go through Azure Bastion."
  type        = string

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) ", var.admin_ssh_public_key))
    error_message = "admin_ssh_public_key must be an OpenSSH public key (ssh-ed25519 ..., ssh-rsa ...)."
  }
}

variable "bastion_sku" {
  description = "Azure Bastion SKU for shells: Developer (free, browser only) or Standard (native `az network bastion ssh`, billed hourly)."
  type        = string
  default     = "Developer"

  validation {
    condition     = contains(["Developer", "Basic", "Standard"], var.bastion_sku)
    error_message = "bastion_sku must be Developer, Basic or Standard."
  }
}

variable "disk_size_gb" {
  description = "OS disk size of the Airflow VM in GiB."
  type        = number
  default     = 30

  validation {
    condition     = var.disk_size_gb >= 30 && var.disk_size_gb <= 1024
    error_message = "disk_size_gb must be between 30 and 1024."
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

variable "postgres_sku" {
  description = "Flexible server SKU when warehouse = \"postgres\"."
  type        = string
  default     = "GP_Standard_D2ds_v5"
}

variable "postgres_storage_mb" {
  description = "Flexible server storage in MB when warehouse = \"postgres\"."
  type        = number
  default     = 65536
}

variable "snowflake_principal_id" {
  description = "Object id of Snowflake's service principal in your tenant (after consenting to the storage integration's AZURE_CONSENT_URL). Null until then."
  type        = string
  default     = null
}

variable "datamart_reader_principal_ids" {
  description = "Object ids of Entra principals (BI tools) given read access to datamart exports."
  type        = list(string)
  default     = []
}

variable "protect_data" {
  description = "Keep the storage account and Postgres server from being destroyed with data in them. Set to false only to tear the install down."
  type        = bool
  default     = true
}

variable "admin_password_version" {
  description = "Bump to generate a new Airflow admin password on the next apply."
  type        = number
  default     = 1
}

variable "tags" {
  description = "Extra tags put on every resource."
  type        = map(string)
  default     = {}
}

variable "worker_disk_size_gb" {
  description = "Disk size of the worker VM in GiB: Docker keeps the worker image (built there by the first task that needs it, ~1 GB a version) and the images tasks name."
  type        = number
  default     = 50

  validation {
    condition     = var.worker_disk_size_gb >= 30 && var.worker_disk_size_gb <= 1024
    error_message = "worker_disk_size_gb must be between 30 and 1024."
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
