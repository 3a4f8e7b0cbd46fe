output "name" {
  description = "Instance name."
  value       = google_compute_instance.this.name
}

output "id" {
  description = "Instance id."
  value       = google_compute_instance.this.id
}

output "internal_ip" {
  description = "Internal IP address."
  value       = google_compute_instance.this.network_interface[0].network_ip
}
