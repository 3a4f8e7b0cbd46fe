variable "name" {
  description = "Name of this Headrace install; prefixes every resource and names the bucket."
  type        = string
  default     = "headrace"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name must be 3-20 characters: lower-case letters, digits and '-', starting with a letter."
  }
}

variable "region" {
  description = "AWS region to install into, e.g. eu-west-1."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must look like an AWS region name, e.g. eu-west-1."
  }
}

variable "availability_zones" {
  description = "Two availability zones of the region for the subnets. Null: <region>a and <region>b."
  type        = list(string)
  default     = null

  validation {
    condition     = var.availability_zones == null || length(coalesce(var.availability_zones, [])) == 2
    error_message = "availability_zones must name exactly two zones, e.g. [\"eu-west-1a\", \"eu-west-1b\"]."
  }
}

variable "allowed_cidrs" {
  description = "CIDR ranges allowed to reach the Airflow UI over HTTPS (e.g. your office or VPN egress). Required: there is no default and the whole internet is refused."
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
  description = "Warehouse Headrace loads into: \"snowflake\" (an existing Snowflake account reads the bucket through an IAM role) or \"postgres\" (an RDS PostgreSQL instance created here)."
  type        = string
  default     = "snowflake"

  validation {
    condition     = contains(["snowflake", "postgres"], var.warehouse)
    error_message = "warehouse must be \"snowflake\" or \"postgres\" on AWS."
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
  description = "The Snowflake account Headrace loads into when warehouse = \"snowflake\" (its password goes into the secret <name>/project/snowflake_password after the install)."
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

variable "warehouse_password_version" {
  description = "Bump to generate a new RDS warehouse password on the next apply (warehouse = \"postgres\")."
  type        = number
  default     = 1
}

variable "worker_image" {
  description = "An image pulled on the worker VM at its first start, for tasks that name an image of their own (the Headrace worker image is never pulled: the first task that needs it builds it on the worker). Empty: none."
  type        = string
  default     = ""
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created for Headrace."
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && tonumber(split("/", var.vpc_cidr)[1]) <= 20
    error_message = "vpc_cidr must be an IPv4 CIDR of size /20 or larger."
  }
}

variable "airflow_instance_type" {
  description = "EC2 instance type of the always-on Airflow VM (Airflow 3 and its PostgreSQL need 4 GiB)."
  type        = string
  default     = "t3.medium"
}

variable "worker_instance_type" {
  description = "EC2 instance type of the worker VM, which runs only while tasks need it."
  type        = string
  default     = "t3.large"
}

variable "ami_id" {
  description = "AMI of both VMs. Null: the latest Ubuntu 24.04 LTS published by Canonical, read from SSM."
  type        = string
  default     = null
}

variable "disk_size_gb" {
  description = "Root disk size of the Airflow VM in GiB."
  type        = number
  default     = 30

  validation {
    condition     = var.disk_size_gb >= 20 && var.disk_size_gb <= 1024
    error_message = "disk_size_gb must be between 20 and 1024."
  }
}

variable "raw_retention_days" {
  description = "Days after which raw extracted files under raw/ are deleted (their loaded copy lives in the warehouse)."
  type        = number
  default     = 30

  validation {
    condition     = var.raw_retention_days >= 1
    error_message = "raw_retention_days must be at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the VPC flow logs in CloudWatch, in days."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, ...)."
  }
}

variable "postgres_instance_class" {
  description = "RDS instance class when warehouse = \"postgres\"."
  type        = string
  default     = "db.t4g.medium"
}

variable "postgres_storage_gb" {
  description = "Allocated RDS storage in GiB when warehouse = \"postgres\"."
  type        = number
  default     = 50

  validation {
    condition     = var.postgres_storage_gb >= 20
    error_message = "postgres_storage_gb must be at least 20."
  }
}

variable "snowflake_iam_user_arn" {
  description = "STORAGE_AWS_IAM_USER_ARN shown by DESC INTEGRATION in Snowflake. Null until the storage integration exists: the stage role then trusts only this account."
  type        = string
  default     = null
}

variable "snowflake_external_id" {
  description = "STORAGE_AWS_EXTERNAL_ID shown by DESC INTEGRATION in Snowflake."
  type        = string
  default     = null
}

variable "datamart_reader_principals" {
  description = "IAM principal ARNs allowed to assume the datamart reader role. Empty: principals of this account that are granted sts:AssumeRole on it."
  type        = list(string)
  default     = []
}

variable "protect_data" {
  description = "Keep the bucket, its KMS key and the Postgres warehouse from being destroyed (deletion protection, no force-destroy). Set to false only to tear the install down."
  type        = bool
  default     = true
}

variable "secret_recovery_window_days" {
  description = "Days a deleted secret stays recoverable (0 deletes at once, needed to reinstall under the same name straight away)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30."
  }
}

variable "admin_password_version" {
  description = "Bump to generate a new Airflow admin password on the next apply."
  type        = number
  default     = 1
}

variable "endpoint" {
  description = "Emulator endpoint (e.g. http://127.0.0.1:5000 for a moto server) that every AWS API call goes to. Empty for real AWS. Used by the tests."
  type        = string
  default     = ""

  validation {
    condition     = var.endpoint == "" || can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]+$", var.endpoint))
    error_message = "endpoint must be empty or a local emulator URL such as http://127.0.0.1:5000."
  }
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
