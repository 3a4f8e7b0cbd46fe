resource "google_compute_instance" "this" {
  #checkov:skip=CKV_GCP_40:Only a VM given external_ip has one: the Airflow VM, reachable on 443 from allowed_cidrs alone. The worker has none (asserted by tests/infrastructure).
  #checkov:skip=CKV_GCP_38:Boot disks use Google-managed encryption; customer-supplied keys would have to be sent with every start of the worker.
  name           = var.name
  zone           = var.zone
  machine_type   = var.machine_type
  desired_status = var.desired_status
  labels         = { headrace-role = var.role }

  boot_disk {
    initialize_params {
      image = var.image
      size  = var.disk_size_gb
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = var.subnetwork
    network_ip = var.network_ip

    dynamic "access_config" {
      for_each = var.external_ip == null ? [] : [var.external_ip]
      content {
        nat_ip = access_config.value
      }
    }
  }

  service_account {
    email  = var.service_account_email
    scopes = ["cloud-platform"]
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    user-data                 = var.user_data
    enable-oslogin            = "TRUE"
    block-project-ssh-keys    = "TRUE"
    serial-port-enable        = "FALSE"
    google-logging-enabled    = "TRUE"
    google-monitoring-enabled = "TRUE"
  }

  lifecycle {
    # Airflow starts and stops the worker; cloud-init runs once per VM (see docs, "Upgrades").
    ignore_changes = [desired_status, metadata["user-data"], boot_disk[0].initialize_params[0].image]
  }
}
