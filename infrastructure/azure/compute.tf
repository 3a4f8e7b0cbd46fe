# The Airflow VM's public address exists before the VM, so the certificate and Airflow's
# base URL can name it.
resource "azurerm_public_ip" "airflow" {
  name                = "${var.name}-airflow"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

module "bootstrap" {
  source = "../modules/bootstrap"

  cloud = "azure"
  artifact = {
    url    = "${local.account_url}/${local.container}/${azurerm_storage_blob.headrace_wheel.name}"
    sha256 = local.wheel_sha256
    extras = local.extras
  }
  deployment        = local.deployment
  worker            = local.worker
  worker_host       = local.worker_ip
  airflow_providers = ["apache-airflow-providers-microsoft-azure"]
  project_repo      = var.project_repo
  project_branch    = var.project_branch
  worker_image      = var.worker_image
  secrets = {
    admin_password      = azurerm_key_vault_secret.admin_password.name
    deploy_key          = azurerm_key_vault_secret.placeholder["project-deploy-key"].name
    worker_ssh_private  = azurerm_key_vault_secret.placeholder["worker-ssh-private-key"].name
    worker_ssh_public   = azurerm_key_vault_secret.placeholder["worker-ssh-public-key"].name
    worker_ssh_host_key = azurerm_key_vault_secret.placeholder["worker-ssh-host-key"].name
  }
  remote_log_folder   = "wasb://${local.container}@${azurerm_storage_account.this.name}.blob.core.windows.net/logs/airflow"
  remote_log_conn_id  = "wasb_default"
  public_host         = azurerm_public_ip.airflow.ip_address
  airflow_source_cidr = local.subnets.airflow
  headrace_env = {
    AZURE_CLIENT_ID                                          = azurerm_user_assigned_identity.this["airflow"].client_id
    AIRFLOW__AZURE_REMOTE_LOGGING__REMOTE_WASB_LOG_CONTAINER = local.container
    AIRFLOW_CONN_WASB_DEFAULT                                = "wasb://?extra__wasb__account_url=https%3A%2F%2F${azurerm_storage_account.this.name}.blob.core.windows.net&managed_identity_client_id=${azurerm_user_assigned_identity.this["airflow"].client_id}"
    HEADRACE_STORAGE_URL                                     = "az://${local.container}@${azurerm_storage_account.this.name}"
    HEADRACE_TRANSFORMATION_CLIENT_ID                        = azurerm_user_assigned_identity.this["transformation"].client_id
  }
  bootstrap_env = {
    AZURE_KEY_VAULT = azurerm_key_vault.this.name
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.this["airflow"].client_id
  }
}

module "bootstrap_worker" {
  source = "../modules/bootstrap"

  cloud = "azure"
  artifact = {
    url    = "${local.account_url}/${local.container}/${azurerm_storage_blob.headrace_wheel.name}"
    sha256 = local.wheel_sha256
    extras = local.extras
  }
  deployment        = local.deployment
  airflow_providers = []
  project_repo      = var.project_repo
  project_branch    = var.project_branch
  worker_image      = var.worker_image
  secrets = {
    admin_password      = ""
    deploy_key          = ""
    worker_ssh_private  = ""
    worker_ssh_public   = azurerm_key_vault_secret.placeholder["worker-ssh-public-key"].name
    worker_ssh_host_key = azurerm_key_vault_secret.placeholder["worker-ssh-host-key"].name
  }
  remote_log_folder   = ""
  remote_log_conn_id  = ""
  airflow_source_cidr = local.subnets.airflow
  bootstrap_env = {
    AZURE_KEY_VAULT = azurerm_key_vault.this.name
    AZURE_CLIENT_ID = azurerm_user_assigned_identity.this["worker"].client_id
  }
}

module "airflow_vm" {
  source = "./modules/vm"

  name                 = "${var.name}-airflow"
  role                 = "airflow"
  resource_group_name  = azurerm_resource_group.this.name
  location             = var.location
  size                 = var.airflow_vm_size
  subnet_id            = azurerm_subnet.airflow.id
  public_ip_id         = azurerm_public_ip.airflow.id
  identity_id          = azurerm_user_assigned_identity.this["airflow"].id
  admin_ssh_public_key = var.admin_ssh_public_key
  user_data            = module.bootstrap.airflow_user_data
  disk_size_gb         = var.disk_size_gb
  tags                 = local.tags
}

# Created, then deallocated by the installer right after apply (azurerm has no stopped
# state): Airflow starts it when a task needs it and deallocates it afterwards.
module "worker_vm" {
  source = "./modules/vm"

  name                 = "${var.name}-worker"
  role                 = "worker"
  resource_group_name  = azurerm_resource_group.this.name
  location             = var.location
  size                 = var.worker_vm_size
  subnet_id            = azurerm_subnet.worker.id
  private_ip           = local.worker_ip
  identity_id          = azurerm_user_assigned_identity.this["worker"].id
  admin_ssh_public_key = var.admin_ssh_public_key
  user_data            = module.bootstrap_worker.worker_user_data
  disk_size_gb         = var.worker_disk_size_gb
  tags                 = local.tags
}

# Airflow may read, start and deallocate the worker VM, nothing else: a custom role assigned
# on that one VM (Virtual Machine Contributor would also let it change or delete the VM, its
# extensions included, or run commands on it). The worker's own identity has no compute role.
resource "azurerm_role_definition" "worker_operator" {
  name        = "${var.name}-worker-operator"
  scope       = azurerm_resource_group.this.id
  description = "Start and deallocate the Headrace worker VM"

  permissions {
    actions = [
      "Microsoft.Compute/virtualMachines/read",
      "Microsoft.Compute/virtualMachines/instanceView/read",
      "Microsoft.Compute/virtualMachines/start/action",
      "Microsoft.Compute/virtualMachines/deallocate/action",
    ]
  }

  assignable_scopes = [azurerm_resource_group.this.id]
}

resource "azurerm_role_assignment" "airflow_operates_worker" {
  scope              = module.worker_vm.id
  role_definition_id = azurerm_role_definition.worker_operator.role_definition_resource_id
  principal_id       = azurerm_user_assigned_identity.this["airflow"].principal_id
  description        = "Headrace ${var.name}: Airflow starts and deallocates the worker"
}
