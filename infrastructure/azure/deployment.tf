# What the runtime uses: the Headrace wheel the VMs install, and the deployment settings
# (/etc/headrace/deployment.yaml) that point the project at this install's Blob container,
# warehouse, Key Vault and worker VM. This file is the one place that writes those settings.

locals {
  wheel_sha256 = filesha256(var.headrace_wheel)
  wheel_key    = "artifacts/${substr(local.wheel_sha256, 0, 16)}/${basename(var.headrace_wheel)}"
  extras       = "airflow,${var.warehouse},azure"
  account_url  = "https://${azurerm_storage_account.this.name}.blob.core.windows.net"

  # ${secret:NAME} resolves to the Key Vault secret <project_secret_prefix>NAME, lower case with
  # '_' as '-' (Key Vault names allow no '_'): ${secret:postgres_password} is project-postgres-password.
  project_secret_prefix = "project-"
  deployment = {
    storage = { type = "azure", account_url = local.account_url, container = local.container }
    warehouse = var.warehouse == "postgres" ? {
      type     = "postgres"
      host     = azurerm_postgresql_flexible_server.warehouse[0].fqdn
      port     = 5432
      database = azurerm_postgresql_flexible_server_database.warehouse[0].name
      user     = azurerm_postgresql_flexible_server.warehouse[0].administrator_login
      password = "$${secret:postgres_password}"
      sslmode  = "require"
      } : merge({
        type      = "snowflake"
        account   = var.snowflake.account
        user      = var.snowflake.user
        password  = "$${secret:snowflake_password}"
        role      = var.snowflake.role
        warehouse = var.snowflake.warehouse
        database  = var.snowflake.database
    }, var.snowflake.storage_integration == null ? {} : { storage_integration = var.snowflake.storage_integration })
    secrets = { type = "azure", vault_url = azurerm_key_vault.this.vault_uri, prefix = local.project_secret_prefix }
  }

  # The worker: block of the Airflow VM's deployment file (the bootstrap module adds the
  # worker's address and the SSH login it sets up). Tasks start the VM, run their container on its Docker engine over SSH
  # and deallocate it again (toolkit/workers/vm/azure); Airflow's identity may read, start and
  # deallocate this VM only (compute.tf, worker_operator).
  worker = {
    type            = "azure_vm"
    subscription_id = var.subscription_id
    resource_group  = azurerm_resource_group.this.name
    vm_name         = module.worker_vm.name
    # The sweeper deallocates the worker after this many seconds without a task.
    idle_stop_after = var.worker_idle_stop_after
  }
}

# The Headrace wheel, built by the installer, kept in the install's own container. The
# installer writes it with Entra ID (installer-artifacts grant in storage.tf).
resource "azurerm_storage_blob" "headrace_wheel" {
  name                   = local.wheel_key
  storage_account_name   = azurerm_storage_account.this.name
  storage_container_name = azurerm_storage_container.this.name
  type                   = "Block"
  source                 = var.headrace_wheel
  content_type           = "application/zip"
  metadata               = { sha256 = local.wheel_sha256 }

  depends_on = [azurerm_role_assignment.blob]
}

# The Snowflake password: a placeholder the owner fills after the install (az keyvault secret set).
resource "azurerm_key_vault_secret" "snowflake_password" {
  #checkov:skip=CKV_AZURE_41:The Snowflake password is rotated in Snowflake, then here; an expiry date would stop every load.
  count = var.warehouse == "snowflake" ? 1 : 0

  name         = "${local.project_secret_prefix}snowflake-password"
  key_vault_id = azurerm_key_vault.this.id
  content_type = "text/plain"
  value        = ""

  lifecycle {
    ignore_changes = [value]
  }

  depends_on = [azurerm_role_assignment.installer_secrets]
}

# Airflow resolves the project's ${secret:NAME} in this vault (the warehouse password and the
# project's source credentials) and keeps the credentials Headrace creates there (datamart
# readers): Key Vault RBAC cannot scope that to a name prefix, so it is the vault. Every
# other secret here is one Airflow reads or writes already.
resource "azurerm_role_assignment" "airflow_project_secrets" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = azurerm_user_assigned_identity.this["airflow"].principal_id
  description          = "Headrace ${var.name}: Airflow resolves the project's secrets"
}
