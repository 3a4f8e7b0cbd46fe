# Headrace creates its working datasets (in_*, tr_*, out_*, dm_*) at run time with the
# grants in iam.tf; Terraform owns the run-history dataset.
resource "google_bigquery_dataset" "meta" {
  #checkov:skip=CKV_GCP_81:Holds run metadata only (task, rows, duration); encrypted at rest by Google like the runtime datasets.
  dataset_id                 = "headrace_meta"
  friendly_name              = "Headrace run history"
  description                = "Run history of Headrace ${var.name}: task, rows, bytes, duration, status"
  location                   = local.bq_location
  delete_contents_on_destroy = !var.protect_data

  depends_on = [google_project_service.this]
}
