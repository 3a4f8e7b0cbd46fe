provider "azurerm" {
  subscription_id = var.subscription_id
  # Storage is reached with Entra ID only: shared keys are disabled on the account.
  storage_use_azuread = true

  features {
    key_vault {
      purge_soft_delete_on_destroy = false
    }
    resource_group {
      prevent_deletion_if_contains_resources = true
    }
  }
}
