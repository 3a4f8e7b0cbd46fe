# The Airflow VM's address is reserved first, so the certificate and Airflow's base URL
# can name it.
resource "google_compute_address" "airflow" {
  name         = "${var.name}-airflow"
  region       = var.region
  address_type = "EXTERNAL"

  depends_on = [google_project_service.this]
}

locals {
  # Fixed address: Airflow's settings name the worker before it exists.
  worker_ip = cidrhost(var.subnet_cidr, 10)
}

module "bootstrap" {
  source = "../modules/bootstrap"

  cloud = "gcp"
  artifact = {
    url    = "gs://${google_storage_bucket.this.name}/${google_storage_bucket_object.headrace_wheel.name}"
    sha256 = local.wheel_sha256
    extras = local.extras
  }
  deployment        = local.deployment
  worker            = local.worker
  worker_host       = local.worker_ip
  airflow_providers = ["apache-airflow-providers-google"]
  project_repo      = var.project_repo
  project_branch    = var.project_branch
  worker_image      = var.worker_image
  secrets = {
    admin_password      = google_secret_manager_secret.this["admin-password"].secret_id
    deploy_key          = google_secret_manager_secret.this["project-deploy-key"].secret_id
    worker_ssh_private  = google_secret_manager_secret.this["worker-ssh-private-key"].secret_id
    worker_ssh_public   = google_secret_manager_secret.this["worker-ssh-public-key"].secret_id
    worker_ssh_host_key = google_secret_manager_secret.this["worker-ssh-host-key"].secret_id
  }
  remote_log_folder   = "gs://${google_storage_bucket.this.name}/logs/airflow"
  remote_log_conn_id  = "google_cloud_default"
  public_host         = google_compute_address.airflow.address
  airflow_source_cidr = var.subnet_cidr
  headrace_env = {
    GOOGLE_CLOUD_PROJECT                    = var.project
    HEADRACE_STORAGE_URL                    = "gs://${google_storage_bucket.this.name}"
    HEADRACE_BIGQUERY_LOCATION              = local.bq_location
    HEADRACE_TRANSFORMATION_SERVICE_ACCOUNT = google_service_account.this["transformation"].email
  }
  bootstrap_env = {
    GCP_PROJECT = var.project
  }
}

module "airflow_vm" {
  source = "./modules/vm"

  name                  = "${var.name}-airflow"
  role                  = "airflow"
  zone                  = local.zone
  machine_type          = var.airflow_machine_type
  image                 = var.image
  disk_size_gb          = var.disk_size_gb
  subnetwork            = google_compute_subnetwork.this.id
  external_ip           = google_compute_address.airflow.address
  service_account_email = google_service_account.this["airflow"].email
  user_data             = module.bootstrap.airflow_user_data
}

# Created, bootstrapped at its first boot, then stopped (TERMINATED): Airflow starts it
# when a task needs it and stops it afterwards.
module "worker_vm" {
  source = "./modules/vm"

  name                  = "${var.name}-worker"
  role                  = "worker"
  zone                  = local.zone
  machine_type          = var.worker_machine_type
  image                 = var.image
  disk_size_gb          = var.worker_disk_size_gb
  subnetwork            = google_compute_subnetwork.this.id
  network_ip            = local.worker_ip
  service_account_email = google_service_account.this["worker"].email
  user_data             = module.bootstrap.worker_user_data
  desired_status        = "TERMINATED"
}
