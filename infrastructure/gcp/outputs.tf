output "airflow_url" {
  description = "Airflow UI (self-signed certificate until you install your own)."
  value       = "https://${google_compute_address.airflow.address}/"
}

output "admin_password_secret" {
  description = "Secret Manager secret holding the password of the Airflow user 'admin'."
  value       = google_secret_manager_secret.this["admin-password"].secret_id
}

output "admin_password_command" {
  description = "Command that prints the Airflow admin password."
  value       = "gcloud secrets versions access latest --project ${var.project} --secret ${google_secret_manager_secret.this["admin-password"].secret_id}"
}

output "deploy_key_secret" {
  description = "Secret Manager secret to put the project's read-only SSH deploy key in."
  value       = google_secret_manager_secret.this["project-deploy-key"].secret_id
}

output "bucket" {
  description = "GCS bucket of the install (raw/, logs/, transformations/, datamarts/)."
  value       = google_storage_bucket.this.name
}

output "airflow_instance" {
  description = "Airflow VM; open a shell with: gcloud compute ssh <name> --zone <zone> --tunnel-through-iap."
  value       = { name = module.airflow_vm.name, zone = local.zone }
}

output "worker_instance" {
  description = "Worker VM (TERMINATED unless a task runs)."
  value       = { name = module.worker_vm.name, zone = local.zone }
}

output "service_accounts" {
  description = "Service account e-mails per Headrace component."
  value       = { for k, v in google_service_account.this : k => v.email }
}

output "bigquery_meta_dataset" {
  description = "BigQuery dataset of the run history."
  value       = google_bigquery_dataset.meta.dataset_id
}

output "deployment" {
  description = "The deployment settings the VMs read (/etc/headrace/deployment.yaml): this install's storage, warehouse and secrets blocks."
  value       = module.bootstrap.deployment_yaml
}

output "headrace_wheel" {
  description = "The Headrace wheel the VMs install: its object in the bucket and its sha256."
  value       = { url = "gs://${google_storage_bucket.this.name}/${google_storage_bucket_object.headrace_wheel.name}", sha256 = local.wheel_sha256 }
}
