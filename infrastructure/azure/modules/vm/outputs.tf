output "id" {
  description = "VM resource id."
  value       = azurerm_linux_virtual_machine.this.id
}

output "name" {
  description = "Name of the VM."
  value       = azurerm_linux_virtual_machine.this.name
}

output "private_ip" {
  description = "Private IP address."
  value       = azurerm_network_interface.this.private_ip_address
}
