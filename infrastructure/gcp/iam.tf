# One service account per Headrace component; grants are on this install's resources,
# narrowed by IAM conditions to the bucket prefix or dataset family each one owns.

resource "google_service_account" "this" {
  for_each = local.components

  account_id   = "${var.name}-${each.key}"
  display_name = each.value
  description  = "${each.value} (install ${var.name})"

  depends_on = [google_project_service.this]
}

locals {
  sa = { for k, v in google_service_account.this : k => "serviceAccount:${v.email}" }

  bucket_objects = "projects/_/buckets/${google_storage_bucket.this.name}/objects/"
  bq_datasets    = "projects/${var.project}/datasets/"

  # member key => role, condition title, CEL expression (null: unconditional on the bucket)
  bucket_grants = {
    airflow-read = {
      member = local.sa["airflow"], role = "roles/storage.objectViewer", title = null, expr = null
    }
    # raw/: tasks that run on the Airflow VM extract there, and loads delete old runs.
    airflow-write-logs = {
      member = local.sa["airflow"], role = "roles/storage.objectUser", title = "raw files, logs and datamart exports"
      expr   = "resource.name.startsWith(\"${local.bucket_objects}raw/\") || resource.name.startsWith(\"${local.bucket_objects}logs/\") || resource.name.startsWith(\"${local.bucket_objects}datamarts/\")"
    }
    worker-raw = {
      member = local.sa["worker"], role = "roles/storage.objectUser", title = "raw files"
      expr   = "resource.name.startsWith(\"${local.bucket_objects}raw/\")"
    }
    transformation-raw = {
      member = local.sa["transformation"], role = "roles/storage.objectViewer", title = "raw files"
      expr   = "resource.name.startsWith(\"${local.bucket_objects}raw/\")"
    }
    transformation-scratch = {
      member = local.sa["transformation"], role = "roles/storage.objectUser", title = "transformation scratch"
      expr   = "resource.name.startsWith(\"${local.bucket_objects}transformations/\")"
    }
    datamart-reader = {
      member = local.sa["datamart-reader"], role = "roles/storage.objectViewer", title = "datamart exports"
      expr   = "resource.name.startsWith(\"${local.bucket_objects}datamarts/\")"
    }
  }

  # BigQuery: jobs and dataset creation at project level, data access per dataset family.
  project_grants = {
    airflow-jobs        = { member = local.sa["airflow"], role = "roles/bigquery.user", title = null, expr = null }
    transformation-jobs = { member = local.sa["transformation"], role = "roles/bigquery.user", title = null, expr = null }
    reader-jobs         = { member = local.sa["datamart-reader"], role = "roles/bigquery.jobUser", title = null, expr = null }
    airflow-data = {
      member = local.sa["airflow"], role = "roles/bigquery.dataOwner", title = "loaded, meta and datamart datasets"
      expr   = "resource.name.startsWith(\"${local.bq_datasets}in_\") || resource.name.startsWith(\"${local.bq_datasets}dm_\") || resource.name.startsWith(\"${local.bq_datasets}headrace_meta\")"
    }
    transformation-read = {
      member = local.sa["transformation"], role = "roles/bigquery.dataViewer", title = "transformation inputs"
      expr   = "resource.name.startsWith(\"${local.bq_datasets}in_\") || resource.name.startsWith(\"${local.bq_datasets}out_\")"
    }
    transformation-write = {
      member = local.sa["transformation"], role = "roles/bigquery.dataOwner", title = "transformation outputs"
      expr   = "resource.name.startsWith(\"${local.bq_datasets}tr_\") || resource.name.startsWith(\"${local.bq_datasets}out_\")"
    }
    reader-datamarts = {
      member = local.sa["datamart-reader"], role = "roles/bigquery.dataViewer", title = "datamarts"
      expr   = "resource.name.startsWith(\"${local.bq_datasets}dm_\")"
    }
    airflow-project-secrets = {
      member = local.sa["airflow"], role = "roles/secretmanager.secretAccessor", title = "the project's secrets"
      expr   = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${local.project_secret_prefix}\")"
    }
    # Credentials Headrace creates (datamart readers) are secrets under the same prefix.
    airflow-created-secrets = {
      member = local.sa["airflow"], role = "roles/secretmanager.admin", title = "credentials Headrace creates"
      expr   = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/${local.project_secret_prefix}\")"
    }
    airflow-logs = { member = local.sa["airflow"], role = "roles/logging.logWriter", title = null, expr = null }
    worker-logs  = { member = local.sa["worker"], role = "roles/logging.logWriter", title = null, expr = null }
  }
}

resource "google_project_iam_member" "this" {
  for_each = local.project_grants

  project = var.project
  role    = each.value.role
  member  = each.value.member

  dynamic "condition" {
    for_each = each.value.expr == null ? [] : [each.value]
    content {
      title      = condition.value.title
      expression = condition.value.expr
    }
  }
}

resource "google_storage_bucket_iam_member" "this" {
  for_each = local.bucket_grants

  bucket = google_storage_bucket.this.name
  role   = each.value.role
  member = each.value.member

  dynamic "condition" {
    for_each = each.value.expr == null ? [] : [each.value]
    content {
      title      = condition.value.title
      expression = condition.value.expr
    }
  }
}

# Airflow may read, start and stop the worker VM and nothing else: a custom role granted on
# that one instance (roles/compute.instanceAdmin.v1 would also let it change the instance's
# metadata, SSH keys included, or delete it). The worker's own account has no compute role.
#
# The gcp_vm worker follows a start or stop by the instance's status (compute.instances.get),
# not by its zone operation, so no project-level grant is needed for that.
# Custom role ids stay taken for 37 days after a destroy (undeletable only for the first 7):
# a suffix made once per install lets a re-install with the same name create its own.
resource "random_id" "role_suffix" {
  byte_length = 2
}

resource "google_project_iam_custom_role" "worker_operator" {
  project     = var.project
  role_id     = "${replace(var.name, "-", "_")}_worker_operator_${random_id.role_suffix.hex}"
  title       = "Headrace ${var.name} worker operator"
  description = "Read, start and stop the Headrace worker VM (granted on that instance only)"
  permissions = ["compute.instances.get", "compute.instances.start", "compute.instances.stop"]

  depends_on = [google_project_service.this]
}

resource "google_compute_instance_iam_member" "airflow_controls_worker" {
  instance_name = module.worker_vm.name
  zone          = local.zone
  role          = google_project_iam_custom_role.worker_operator.id
  member        = local.sa["airflow"]
}

# Airflow hands transformations their identity (and starts the worker, which runs as its own).

resource "google_service_account_iam_member" "airflow_acts_as" {
  for_each = toset(["worker", "transformation"])

  service_account_id = google_service_account.this[each.value].name
  role               = "roles/iam.serviceAccountUser"
  member             = local.sa["airflow"]
}

resource "google_service_account_iam_member" "transformation_token" {
  for_each = toset(["airflow", "worker"])

  service_account_id = google_service_account.this["transformation"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.sa[each.value]
}

resource "google_service_account_iam_member" "datamart_reader" {
  for_each = toset(var.datamart_reader_members)

  service_account_id = google_service_account.this["datamart-reader"].name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = each.value
}

# Shell access: IAP tunnel + OS Login, granted to named people only.
resource "google_project_iam_member" "shell_iap" {
  for_each = toset(var.shell_members)

  project = var.project
  role    = "roles/iap.tunnelResourceAccessor"
  member  = each.value
}

resource "google_project_iam_member" "shell_os_login" {
  for_each = toset(var.shell_members)

  project = var.project
  role    = "roles/compute.osAdminLogin"
  member  = each.value
}
