resource "azurerm_virtual_network" "this" {
  name                = var.name
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  address_space       = [var.vnet_cidr]
  tags                = local.tags
}

resource "azurerm_subnet" "airflow" {
  name                 = "airflow"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [local.subnets.airflow]
  service_endpoints    = ["Microsoft.Storage", "Microsoft.KeyVault"]
}

resource "azurerm_subnet" "worker" {
  name                            = "worker"
  resource_group_name             = azurerm_resource_group.this.name
  virtual_network_name            = azurerm_virtual_network.this.name
  address_prefixes                = [local.subnets.worker]
  service_endpoints               = ["Microsoft.Storage", "Microsoft.KeyVault"]
  default_outbound_access_enabled = false
}

resource "azurerm_subnet" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  name                 = "postgres"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [local.subnets.postgres]

  delegation {
    name = "postgres-flexible"
    service_delegation {
      name    = "Microsoft.DBforPostgreSQL/flexibleServers"
      actions = ["Microsoft.Network/virtualNetworks/subnets/join/action"]
    }
  }
}

# ---- NAT: the worker has no public IP; its only way out --------------------------------

resource "azurerm_public_ip" "nat" {
  name                = "${var.name}-nat"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_nat_gateway" "this" {
  name                = var.name
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  sku_name            = "Standard"
  tags                = local.tags
}

resource "azurerm_nat_gateway_public_ip_association" "this" {
  nat_gateway_id       = azurerm_nat_gateway.this.id
  public_ip_address_id = azurerm_public_ip.nat.id
}

resource "azurerm_subnet_nat_gateway_association" "worker" {
  subnet_id      = azurerm_subnet.worker.id
  nat_gateway_id = azurerm_nat_gateway.this.id
}

# ---- Bastion: the only way to a shell ---------------------------------------------------

resource "azurerm_subnet" "bastion" {
  count = var.bastion_sku == "Developer" ? 0 : 1

  #checkov:skip=CKV2_AZURE_31:Azure Bastion manages the traffic of its own subnet; a custom NSG there must mirror Microsoft's rule list and breaks on its changes.
  name                 = "AzureBastionSubnet"
  resource_group_name  = azurerm_resource_group.this.name
  virtual_network_name = azurerm_virtual_network.this.name
  address_prefixes     = [cidrsubnet(var.vnet_cidr, 10, 16)]
}

resource "azurerm_public_ip" "bastion" {
  count = var.bastion_sku == "Developer" ? 0 : 1

  name                = "${var.name}-bastion"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  allocation_method   = "Static"
  sku                 = "Standard"
  tags                = local.tags
}

resource "azurerm_bastion_host" "this" {
  name                = var.name
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  sku                 = var.bastion_sku
  virtual_network_id  = var.bastion_sku == "Developer" ? azurerm_virtual_network.this.id : null
  tunneling_enabled   = var.bastion_sku == "Standard" ? true : null
  tags                = local.tags

  dynamic "ip_configuration" {
    for_each = var.bastion_sku == "Developer" ? [] : [1]
    content {
      name                 = "bastion"
      subnet_id            = azurerm_subnet.bastion[0].id
      public_ip_address_id = azurerm_public_ip.bastion[0].id
    }
  }
}

locals {
  # Developer Bastion connects from Azure's platform address; the others from their subnet.
  bastion_source = var.bastion_sku == "Developer" ? "168.63.129.16/32" : cidrsubnet(var.vnet_cidr, 10, 16)
}

# ---- network security groups: explicit allows, then deny everything ---------------------

resource "azurerm_network_security_group" "airflow" {
  name                = "${var.name}-airflow"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags

  security_rule {
    name                       = "https-from-allowed-cidrs"
    description                = "Airflow UI over HTTPS from the allowed CIDRs only"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "443"
    source_address_prefixes    = var.allowed_cidrs
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "ssh-from-bastion"
    description                = "Shells through Azure Bastion only"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = local.bastion_source
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-other-inbound"
    description                = "Nothing else, not even from inside the virtual network"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_network_security_group" "worker" {
  name                = "${var.name}-worker"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags

  security_rule {
    name                       = "ssh-from-airflow"
    description                = "Airflow runs task containers on the worker over SSH"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = local.subnets.airflow
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "ssh-from-bastion"
    description                = "Shells through Azure Bastion only"
    priority                   = 200
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "22"
    source_address_prefix      = local.bastion_source
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-other-inbound"
    description                = "Nothing else, not even from inside the virtual network"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "airflow" {
  subnet_id                 = azurerm_subnet.airflow.id
  network_security_group_id = azurerm_network_security_group.airflow.id
}

resource "azurerm_subnet_network_security_group_association" "worker" {
  subnet_id                 = azurerm_subnet.worker.id
  network_security_group_id = azurerm_network_security_group.worker.id
}

# The Postgres subnet takes 5432 from the two VM subnets only.
resource "azurerm_network_security_group" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  name                = "${var.name}-postgres"
  resource_group_name = azurerm_resource_group.this.name
  location            = var.location
  tags                = local.tags

  security_rule {
    name                       = "postgres-from-vms"
    description                = "Postgres from the Airflow and worker subnets"
    priority                   = 100
    direction                  = "Inbound"
    access                     = "Allow"
    protocol                   = "Tcp"
    source_port_range          = "*"
    destination_port_range     = "5432"
    source_address_prefixes    = [local.subnets.airflow, local.subnets.worker]
    destination_address_prefix = "*"
  }

  security_rule {
    name                       = "deny-all-other-inbound"
    description                = "Nothing else"
    priority                   = 4000
    direction                  = "Inbound"
    access                     = "Deny"
    protocol                   = "*"
    source_port_range          = "*"
    destination_port_range     = "*"
    source_address_prefix      = "*"
    destination_address_prefix = "*"
  }
}

resource "azurerm_subnet_network_security_group_association" "postgres" {
  count = var.warehouse == "postgres" ? 1 : 0

  subnet_id                 = azurerm_subnet.postgres[0].id
  network_security_group_id = azurerm_network_security_group.postgres[0].id
}
