# What the runtime uses: the Headrace wheel the VMs install, and the deployment settings
# (/etc/headrace/deployment.yaml) that point the project at this install's bucket, BigQuery,
# Secret Manager and worker VM. This file is the one place that writes those settings.

data "google_project" "this" {
  project_id = var.project
}

locals {
  wheel_sha256 = filesha256(var.headrace_wheel)
  wheel_key    = "artifacts/${substr(local.wheel_sha256, 0, 16)}/${basename(var.headrace_wheel)}"
  extras       = "airflow,bigquery,gcs,gcp"

  # ${secret:NAME} resolves to the Secret Manager secret <project_secret_prefix>NAME; the
  # Airflow VM may read those (iam.tf, airflow-project-secrets) and nothing else of the project.
  project_secret_prefix = "${var.name}-project-"

  deployment = {
    storage = { type = "gcs", bucket = google_storage_bucket.this.name, project = var.project }
    warehouse = {
      type     = "bigquery"
      project  = var.project
      location = local.bq_location
      # transformation SQL runs as this account, granted only tr_*/out_* (iam.tf)
      transformation_service_account = google_service_account.this["transformation"].email
      # datamart readers read as this account (BI tools impersonate it: var.datamart_reader_members)
      default_reader = "serviceAccount:${google_service_account.this["datamart-reader"].email}"
    }
    secrets = { type = "gcp", project = var.project, prefix = local.project_secret_prefix }
  }

  # The worker: block of the Airflow VM's deployment file (the bootstrap module adds the
  # worker's address and the SSH login it sets up). Tasks start the instance, run their container on its Docker engine
  # over SSH and stop it again (toolkit/workers/vm/gcp); the Airflow service account may
  # start, stop and read this instance only (iam.tf, worker_operator).
  worker = {
    type     = "gcp_vm"
    project  = var.project
    zone     = local.zone
    instance = module.worker_vm.name
    # The sweeper stops the worker after this many seconds without a task.
    idle_stop_after = var.worker_idle_stop_after
  }
}

# The Headrace wheel, built by the installer, kept in the install's own bucket.
resource "google_storage_bucket_object" "headrace_wheel" {
  name         = local.wheel_key
  bucket       = google_storage_bucket.this.name
  source       = var.headrace_wheel
  content_type = "application/zip"
  metadata     = { sha256 = local.wheel_sha256 }
}
