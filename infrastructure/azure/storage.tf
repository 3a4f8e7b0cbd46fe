# The Headrace storage: one container ("headrace") with raw/, logs/, transformations/ and
# datamarts/. Entra ID only (no shared keys), never public, TLS 1.2+, versioned.
resource "azurerm_storage_account" "this" {
  #checkov:skip=CKV2_AZURE_1:Encrypted at rest with Microsoft-managed keys; a customer-managed key needs a Key Vault key kept forever.
  #checkov:skip=CKV2_AZURE_33:Reached through service endpoints from the two subnets and the allowed CIDRs; a private endpoint costs a private DNS zone per service.
  #checkov:skip=CKV_AZURE_59:Public endpoint with default_action Deny: only the two subnets and allowed_cidrs (the installer, which creates the container) get through.
  #checkov:skip=CKV_AZURE_33:Headrace uses no queues; blob access is logged through diagnostic settings.
  #checkov:skip=CKV_AZURE_206:Zone-redundant storage is kept in-region on purpose (data residency); raw files are re-extractable.
  name                              = local.storage_name
  resource_group_name               = azurerm_resource_group.this.name
  location                          = var.location
  account_kind                      = "StorageV2"
  account_tier                      = "Standard"
  account_replication_type          = "ZRS"
  min_tls_version                   = "TLS1_2"
  https_traffic_only_enabled        = true
  allow_nested_items_to_be_public   = false
  shared_access_key_enabled         = false
  public_network_access_enabled     = true
  infrastructure_encryption_enabled = true
  tags                              = local.tags

  blob_properties {
    versioning_enabled = true
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  sas_policy {
    expiration_period = "01.00:00:00"
  }

  network_rules {
    default_action             = "Deny"
    bypass                     = ["AzureServices", "Logging", "Metrics"]
    ip_rules                   = [for c in var.allowed_cidrs : trimsuffix(c, "/32")]
    virtual_network_subnet_ids = [azurerm_subnet.airflow.id, azurerm_subnet.worker.id]
  }
}

resource "azurerm_storage_container" "this" {
  #checkov:skip=CKV2_AZURE_21:Blob reads are logged through the account's diagnostic settings, not classic storage analytics.
  name                  = local.container
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_storage_management_policy" "this" {
  storage_account_id = azurerm_storage_account.this.id

  rule {
    name    = "expire-raw-files"
    enabled = true
    filters {
      blob_types   = ["blockBlob"]
      prefix_match = ["${local.container}/raw/"]
    }
    actions {
      base_blob {
        delete_after_days_since_modification_greater_than = var.raw_retention_days
      }
      version {
        delete_after_days_since_creation = 7
      }
    }
  }

  rule {
    name    = "expire-old-versions"
    enabled = true
    filters {
      blob_types = ["blockBlob"]
    }
    actions {
      version {
        delete_after_days_since_creation = 30
      }
    }
  }
}

# ---- blob access per component, narrowed to a path prefix by an ABAC condition ----------

locals {
  blob_path = "@Resource[Microsoft.Storage/storageAccounts/blobServices/containers/blobs:path]"
  blob_actions = {
    read  = ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"]
    write = ["Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action", "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete"]
  }

  # name => identity principal, role, which actions the condition limits, prefixes (empty: whole container)
  blob_grants = merge({
    airflow-read        = { principal = azurerm_user_assigned_identity.this["airflow"].principal_id, role = "Storage Blob Data Reader", limit = "read", prefixes = [] }
    airflow-write       = { principal = azurerm_user_assigned_identity.this["airflow"].principal_id, role = "Storage Blob Data Contributor", limit = "write", prefixes = ["raw/", "logs/", "datamarts/"] }
    worker-raw          = { principal = azurerm_user_assigned_identity.this["worker"].principal_id, role = "Storage Blob Data Contributor", limit = "write", prefixes = ["raw/"] }
    transform-read      = { principal = azurerm_user_assigned_identity.this["transformation"].principal_id, role = "Storage Blob Data Reader", limit = "read", prefixes = ["raw/", "transformations/"] }
    transform-own       = { principal = azurerm_user_assigned_identity.this["transformation"].principal_id, role = "Storage Blob Data Contributor", limit = "write", prefixes = ["transformations/"] }
    reader              = { principal = azurerm_user_assigned_identity.this["datamart-reader"].principal_id, role = "Storage Blob Data Reader", limit = "read", prefixes = ["datamarts/"] }
    installer-artifacts = { principal = data.azurerm_client_config.current.object_id, role = "Storage Blob Data Contributor", limit = "write", prefixes = ["artifacts/"] }
    }, var.snowflake_principal_id == null ? {} : {
    snowflake-stage = { principal = var.snowflake_principal_id, role = "Storage Blob Data Reader", limit = "read", prefixes = ["raw/"] }
    }, { for i, id in var.datamart_reader_principal_ids :
    "bi-reader-${i}" => { principal = id, role = "Storage Blob Data Reader", limit = "read", prefixes = ["datamarts/"] }
  })
}

resource "azurerm_role_assignment" "blob" {
  for_each = local.blob_grants

  scope                = azurerm_storage_container.this.id
  role_definition_name = each.value.role
  principal_id         = each.value.principal
  description          = "Headrace ${var.name}: ${each.key}"
  condition_version    = length(each.value.prefixes) > 0 ? "2.0" : null
  condition = length(each.value.prefixes) == 0 ? null : format(
    "((%s) OR (%s))",
    join(" AND ", [for a in local.blob_actions[each.value.limit] : "!(ActionMatches{'${a}'})"]),
    join(" OR ", [for p in each.value.prefixes : "${local.blob_path} StringStartsWith '${p}'"]),
  )
}
