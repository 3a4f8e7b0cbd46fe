data "azurerm_client_config" "current" {}

locals {
  # Globally unique names: storage accounts and Key Vaults take 3-24 letters and digits.
  suffix       = substr(sha1("${var.subscription_id}/${var.location}/${var.name}"), 0, 8)
  storage_name = "${var.name}${local.suffix}"
  vault_name   = "${var.name}-kv-${local.suffix}"
  container    = "headrace"

  tags = merge(var.tags, {
    "headrace-install" = var.name
    "managed-by"       = "terraform"
  })

  components = ["airflow", "worker", "transformation", "datamart-reader"]

  subnets = {
    airflow  = cidrsubnet(var.vnet_cidr, 8, 1)
    worker   = cidrsubnet(var.vnet_cidr, 8, 2)
    postgres = cidrsubnet(var.vnet_cidr, 8, 3)
  }
  worker_ip = cidrhost(local.subnets.worker, 10)
}

resource "azurerm_resource_group" "this" {
  name     = "${var.name}-rg"
  location = var.location
  tags     = local.tags
}

# One user-assigned identity per Headrace component.
resource "azurerm_user_assigned_identity" "this" {
  for_each = toset(local.components)

  name                = "${var.name}-${each.key}"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags
}
