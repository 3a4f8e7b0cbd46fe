output "airflow_user_data" {
  description = "cloud-init user data of the Airflow VM."
  value       = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", { role = "airflow", cloud = var.cloud, files = local.airflow_files })
}

output "worker_user_data" {
  description = "cloud-init user data of the worker VM."
  value       = templatefile("${path.module}/templates/cloud-init.yaml.tftpl", { role = "worker", cloud = var.cloud, files = local.worker_files })
}

output "deployment_yaml" {
  description = "Text of the Airflow VM's /etc/headrace/deployment.yaml: this install's warehouse, storage, secrets and worker blocks."
  value       = local.airflow_deployment_file
}
