# Snowflake reads raw/ through its service principal: see storage.tf (snowflake-stage grant,
# created once snowflake_principal_id is set after consenting to the storage integration).

# ---- PostgreSQL flexible server: private (delegated subnet), reachable from the VNet only -

resource "azurerm_private_dns_zone" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  name                = "${var.name}.postgres.database.azure.com"
  resource_group_name = azurerm_resource_group.this.name
  tags                = local.tags
}

resource "azurerm_private_dns_zone_virtual_network_link" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  name                  = "${var.name}-postgres"
  resource_group_name   = azurerm_resource_group.this.name
  private_dns_zone_name = azurerm_private_dns_zone.postgres[0].name
  virtual_network_id    = azurerm_virtual_network.this.id
  tags                  = local.tags
}

ephemeral "random_password" "postgres" {
  length  = 40
  special = false
}

resource "azurerm_postgresql_flexible_server" "warehouse" {
  #checkov:skip=CKV2_AZURE_57:VNet-integrated (delegated subnet, no public access): the private-access model of flexible server.
  #checkov:skip=CKV_AZURE_136:Geo-redundant backups double the backup cost; enable them for a production-critical warehouse.
  count = var.warehouse == "postgres" ? 1 : 0

  name                              = "${var.name}-warehouse-${local.suffix}"
  resource_group_name               = azurerm_resource_group.this.name
  location                          = var.location
  version                           = "16"
  sku_name                          = var.postgres_sku
  storage_mb                        = var.postgres_storage_mb
  auto_grow_enabled                 = true
  backup_retention_days             = 14
  delegated_subnet_id               = azurerm_subnet.postgres[0].id
  private_dns_zone_id               = azurerm_private_dns_zone.postgres[0].id
  public_network_access_enabled     = false
  administrator_login               = "headrace_admin"
  administrator_password_wo         = ephemeral.random_password.postgres.result
  administrator_password_wo_version = 1
  tags                              = local.tags

  lifecycle {
    ignore_changes = [zone]
  }

  depends_on = [azurerm_private_dns_zone_virtual_network_link.postgres]
}

resource "azurerm_postgresql_flexible_server_configuration" "require_tls" {
  count = var.warehouse == "postgres" ? 1 : 0

  name      = "require_secure_transport"
  server_id = azurerm_postgresql_flexible_server.warehouse[0].id
  value     = "on"
}

resource "azurerm_postgresql_flexible_server_database" "warehouse" {
  count = var.warehouse == "postgres" ? 1 : 0

  name      = "headrace"
  server_id = azurerm_postgresql_flexible_server.warehouse[0].id
  charset   = "UTF8"
  collation = "en_US.utf8"
}

# The same ephemeral password, kept in Key Vault for Airflow (${secret:postgres_password}).
resource "azurerm_key_vault_secret" "postgres_password" {
  #checkov:skip=CKV_AZURE_41:The warehouse password is rotated with the server; an expiry date would stop every load.
  count = var.warehouse == "postgres" ? 1 : 0

  name             = "${local.project_secret_prefix}postgres-password"
  key_vault_id     = azurerm_key_vault.this.id
  content_type     = "text/plain"
  value_wo         = ephemeral.random_password.postgres.result
  value_wo_version = 1

  depends_on = [azurerm_role_assignment.installer_secrets]
}
