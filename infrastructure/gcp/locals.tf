locals {
  zone        = coalesce(var.zone, "${var.region}-b")
  bq_location = coalesce(var.bigquery_location, var.region)
  bucket_name = "${var.name}-${var.project}"

  labels = merge(var.labels, {
    headrace-install = var.name
    managed-by       = "terraform"
  })

  # Google's range for IAP TCP forwarding: the only source allowed to reach port 22.
  iap_range = "35.235.240.0/20"

  components = {
    airflow         = "Headrace Airflow VM"
    worker          = "Headrace worker VM"
    transformation  = "Headrace transformations"
    datamart-reader = "Headrace datamart readers (BI tools)"
  }

  services = ["compute.googleapis.com", "iap.googleapis.com", "secretmanager.googleapis.com", "bigquery.googleapis.com", "storage.googleapis.com", "logging.googleapis.com"]
}

resource "google_project_service" "this" {
  for_each = toset(local.services)

  service            = each.value
  disable_on_destroy = false
}
