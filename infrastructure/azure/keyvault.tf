# Key Vault with Azure RBAC: each identity is granted single secrets, not the vault.
resource "azurerm_key_vault" "this" {
  #checkov:skip=CKV2_AZURE_32:Reached through service endpoints from the two subnets and the allowed CIDRs; a private endpoint costs a private DNS zone per service.
  name                          = local.vault_name
  resource_group_name           = azurerm_resource_group.this.name
  location                      = var.location
  tenant_id                     = data.azurerm_client_config.current.tenant_id
  sku_name                      = "standard"
  enable_rbac_authorization     = true
  purge_protection_enabled      = true
  soft_delete_retention_days    = 30
  public_network_access_enabled = true
  tags                          = local.tags

  network_acls {
    default_action             = "Deny"
    bypass                     = "AzureServices"
    ip_rules                   = var.allowed_cidrs
    virtual_network_subnet_ids = [azurerm_subnet.airflow.id, azurerm_subnet.worker.id]
  }
}

# Whoever runs the installer writes the secrets (and nothing else in the subscription).
resource "azurerm_role_assignment" "installer_secrets" {
  scope                = azurerm_key_vault.this.id
  role_definition_name = "Key Vault Secrets Officer"
  principal_id         = data.azurerm_client_config.current.object_id
  description          = "Headrace ${var.name}: the installer writes the generated secrets"
}

ephemeral "random_password" "admin" {
  length  = 32
  special = false
}

locals {
  vault_secrets = {
    admin-password         = "Password of the Airflow user 'admin'"
    project-deploy-key     = "SSH private deploy key (read-only) of the Headrace project repository"
    worker-ssh-private-key = "SSH private key Airflow uses to reach the worker VM"
    worker-ssh-public-key  = "SSH public key the worker VM authorizes for Airflow"
    worker-ssh-host-key    = "SSH host key of the worker VM, made and known by the Airflow VM"
  }

  # secret/identity => role on that one secret
  vault_grants = {
    "admin-password/airflow"         = "Key Vault Secrets User"
    "project-deploy-key/airflow"     = "Key Vault Secrets User"
    "worker-ssh-private-key/airflow" = "Key Vault Secrets Officer"
    "worker-ssh-public-key/airflow"  = "Key Vault Secrets Officer"
    "worker-ssh-public-key/worker"   = "Key Vault Secrets User"
    "worker-ssh-host-key/airflow"    = "Key Vault Secrets Officer"
    "worker-ssh-host-key/worker"     = "Key Vault Secrets User"
  }
}

# The admin password: ephemeral, written with a write-only argument, never in the state.
resource "azurerm_key_vault_secret" "admin_password" {
  #checkov:skip=CKV_AZURE_41:Airflow reads the password at every start; an expiry date would lock the owner out. Rotate by bumping admin_password_version.
  name             = "admin-password"
  key_vault_id     = azurerm_key_vault.this.id
  content_type     = "text/plain"
  value_wo         = ephemeral.random_password.admin.result
  value_wo_version = var.admin_password_version
  tags             = { description = local.vault_secrets["admin-password"] }

  depends_on = [azurerm_role_assignment.installer_secrets]
}

# Placeholders the VMs (or the installer) fill in; Terraform does not track their values.
resource "azurerm_key_vault_secret" "placeholder" {
  #checkov:skip=CKV_AZURE_41:Keys are rotated by replacing the value; an expiry date would stop Airflow at an arbitrary moment.
  for_each = { for k, v in local.vault_secrets : k => v if k != "admin-password" }

  name         = each.key
  key_vault_id = azurerm_key_vault.this.id
  content_type = "text/plain"
  value        = ""
  tags         = { description = each.value }

  lifecycle {
    ignore_changes = [value, tags]
  }

  depends_on = [azurerm_role_assignment.installer_secrets]
}

locals {
  secret_ids = merge(
    { admin-password = azurerm_key_vault_secret.admin_password.resource_versionless_id },
    { for k, v in azurerm_key_vault_secret.placeholder : k => v.resource_versionless_id },
  )
}

resource "azurerm_role_assignment" "secret" {
  for_each = local.vault_grants

  scope                = local.secret_ids[split("/", each.key)[0]]
  role_definition_name = each.value
  principal_id         = azurerm_user_assigned_identity.this[split("/", each.key)[1]].principal_id
  description          = "Headrace ${var.name}: ${each.key}"
}
