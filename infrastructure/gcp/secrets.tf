# The admin password is ephemeral and written with a write-only argument: it is never in
# the plan or the state. Bump admin_password_version to rotate it.
ephemeral "random_password" "admin" {
  length  = 32
  special = false
}

locals {
  secrets = {
    admin-password         = "Password of the Airflow user 'admin'"
    project-deploy-key     = "SSH private deploy key (read-only) of the Headrace project repository"
    worker-ssh-private-key = "SSH private key Airflow uses to reach the worker VM"
    worker-ssh-public-key  = "SSH public key the worker VM authorizes for Airflow"
    worker-ssh-host-key    = "SSH host key of the worker VM, made and known by the Airflow VM"
  }

  # secret => members allowed to read it / add versions to it
  secret_readers = {
    admin-password         = ["airflow"]
    project-deploy-key     = ["airflow"]
    worker-ssh-private-key = ["airflow"]
    worker-ssh-public-key  = ["worker"]
    worker-ssh-host-key    = ["airflow", "worker"]
  }
  secret_writers = {
    worker-ssh-private-key = ["airflow"]
    worker-ssh-public-key  = ["airflow"]
    worker-ssh-host-key    = ["airflow"]
  }

  secret_reader_pairs = merge([for s, who in local.secret_readers : { for w in who : "${s}/${w}" => { secret = s, sa = w } }]...)
  secret_writer_pairs = merge([for s, who in local.secret_writers : { for w in who : "${s}/${w}" => { secret = s, sa = w } }]...)
}

resource "google_secret_manager_secret" "this" {
  for_each = local.secrets

  secret_id = "${var.name}-${each.key}"
  annotations = {
    description = each.value
  }

  replication {
    auto {}
  }

  depends_on = [google_project_service.this]
}

resource "google_secret_manager_secret_version" "admin_password" {
  secret                 = google_secret_manager_secret.this["admin-password"].id
  secret_data_wo         = ephemeral.random_password.admin.result
  secret_data_wo_version = var.admin_password_version
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each = local.secret_reader_pairs

  secret_id = google_secret_manager_secret.this[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.sa[each.value.sa]
}

resource "google_secret_manager_secret_iam_member" "writer" {
  for_each = local.secret_writer_pairs

  secret_id = google_secret_manager_secret.this[each.value.secret].id
  role      = "roles/secretmanager.secretVersionAdder"
  member    = local.sa[each.value.sa]
}
