resource "google_compute_network" "this" {
  name                    = var.name
  auto_create_subnetworks = false

  depends_on = [google_project_service.this]
}

resource "google_compute_subnetwork" "this" {
  name                     = var.name
  network                  = google_compute_network.this.id
  region                   = var.region
  ip_cidr_range            = var.subnet_cidr
  private_ip_google_access = true

  log_config {
    aggregation_interval = "INTERVAL_10_MIN"
    flow_sampling        = 0.5
    metadata             = "INCLUDE_ALL_METADATA"
  }
}

# Workers have no external IP: their way out is Cloud NAT.
resource "google_compute_router" "this" {
  name    = var.name
  network = google_compute_network.this.id
  region  = var.region
}

resource "google_compute_router_nat" "this" {
  name                               = var.name
  router                             = google_compute_router.this.name
  region                             = var.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}

# ---- firewall: the UI from allowed_cidrs, shells through IAP, worker SSH from Airflow --

resource "google_compute_firewall" "airflow_https" {
  name          = "${var.name}-airflow-https"
  network       = google_compute_network.this.id
  description   = "Airflow UI over HTTPS from the allowed CIDRs only"
  direction     = "INGRESS"
  source_ranges = var.allowed_cidrs
  target_service_accounts = [
    google_service_account.this["airflow"].email,
  ]

  allow {
    protocol = "tcp"
    ports    = ["443"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "iap_ssh" {
  name          = "${var.name}-iap-ssh"
  network       = google_compute_network.this.id
  description   = "Shells through Identity-Aware Proxy TCP forwarding only (gcloud compute ssh --tunnel-through-iap)"
  direction     = "INGRESS"
  source_ranges = [local.iap_range]
  target_service_accounts = [
    google_service_account.this["airflow"].email,
    google_service_account.this["worker"].email,
  ]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}

resource "google_compute_firewall" "worker_ssh_from_airflow" {
  name                    = "${var.name}-worker-ssh-from-airflow"
  network                 = google_compute_network.this.id
  description             = "Airflow runs task containers on the worker over SSH"
  direction               = "INGRESS"
  source_service_accounts = [google_service_account.this["airflow"].email]
  target_service_accounts = [google_service_account.this["worker"].email]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }

  log_config {
    metadata = "INCLUDE_ALL_METADATA"
  }
}
