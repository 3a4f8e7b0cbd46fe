output "airflow_url" {
  description = "Airflow UI (self-signed certificate until you install your own)."
  value       = "https://${azurerm_public_ip.airflow.ip_address}/"
}

output "admin_password_secret" {
  description = "Key Vault and secret holding the password of the Airflow user 'admin'."
  value       = "${azurerm_key_vault.this.name}/${azurerm_key_vault_secret.admin_password.name}"
}

output "admin_password_command" {
  description = "Command that prints the Airflow admin password."
  value       = "az keyvault secret show --vault-name ${azurerm_key_vault.this.name} --name ${azurerm_key_vault_secret.admin_password.name} --query value -o tsv"
}

output "deploy_key_secret" {
  description = "Key Vault secret to put the project's read-only SSH deploy key in."
  value       = "${azurerm_key_vault.this.name}/project-deploy-key"
}

output "key_vault" {
  description = "Key Vault name."
  value       = azurerm_key_vault.this.name
}

output "resource_group" {
  description = "Resource group holding the whole install."
  value       = azurerm_resource_group.this.name
}

output "storage" {
  description = "Storage account and container of the install (raw/, logs/, transformations/, datamarts/)."
  value       = { account = azurerm_storage_account.this.name, container = local.container }
}

output "airflow_vm" {
  description = "Airflow VM name; open a shell through Azure Bastion."
  value       = module.airflow_vm.name
}

output "worker_vm" {
  description = "Worker VM name (deallocated unless a task runs)."
  value       = module.worker_vm.name
}

output "identities" {
  description = "Client ids of the managed identities per Headrace component."
  value       = { for k, v in azurerm_user_assigned_identity.this : k => v.client_id }
}

output "warehouse" {
  description = "Postgres server FQDN and the Key Vault secret of its password, when warehouse = \"postgres\"."
  value = var.warehouse == "postgres" ? {
    fqdn   = azurerm_postgresql_flexible_server.warehouse[0].fqdn
    secret = "${azurerm_key_vault.this.name}/${azurerm_key_vault_secret.postgres_password[0].name}"
  } : null
}

output "deployment" {
  description = "The deployment settings the VMs read (/etc/headrace/deployment.yaml): this install's storage, warehouse and secrets blocks."
  value       = module.bootstrap.deployment_yaml
}

output "headrace_wheel" {
  description = "The Headrace wheel the VMs install: its blob in the container and its sha256."
  value       = { url = "${local.account_url}/${local.container}/${azurerm_storage_blob.headrace_wheel.name}", sha256 = local.wheel_sha256 }
}
