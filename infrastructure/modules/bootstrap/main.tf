locals {
  home            = "/opt/headrace"
  deployment_path = "/etc/headrace/deployment.yaml"

  # The key pair the Airflow VM makes (headrace-bootstrap worker_key_pair) and the worker VM
  # authorizes for the headrace user (worker_keys): the worker block's SSH login.
  worker_ssh_user     = "headrace"
  worker_ssh_key_file = "${local.home}/.ssh/worker_ed25519"

  # /etc/headrace/env: read by systemd (EnvironmentFile), the bootstrap and Headrace itself.
  env = merge({
    HEADRACE_HOME                                     = local.home
    HEADRACE_PROJECT_REPO                             = var.project_repo
    HEADRACE_PROJECT_BRANCH                           = var.project_branch
    HEADRACE_PUBLIC_HOST                              = var.public_host
    HEADRACE_PUBLIC_SAN                               = var.public_host == "" ? "DNS:headrace-airflow" : (can(cidrhost("${var.public_host}/32", 0)) ? "IP:${var.public_host}" : "DNS:${var.public_host}")
    AIRFLOW_HOME                                      = "${local.home}/airflow"
    AIRFLOW__CORE__DAGS_FOLDER                        = "${local.home}/dags"
    AIRFLOW__CORE__EXECUTOR                           = "LocalExecutor"
    AIRFLOW__CORE__PARALLELISM                        = "8"
    AIRFLOW__CORE__LOAD_EXAMPLES                      = "False"
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS          = "admin:admin"
    AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE = "/etc/headrace/airflow-passwords.json"
    AIRFLOW__CORE__EXECUTION_API_SERVER_URL           = "http://127.0.0.1:8080/execution/"
    AIRFLOW__API__HOST                                = "127.0.0.1"
    AIRFLOW__API__PORT                                = "8080"
    AIRFLOW__API__BASE_URL                            = var.public_host == "" ? "" : "https://${var.public_host}/"
    AIRFLOW__LOGGING__REMOTE_LOGGING                  = "True"
    AIRFLOW__LOGGING__REMOTE_BASE_LOG_FOLDER          = var.remote_log_folder
    AIRFLOW__LOGGING__REMOTE_LOG_CONN_ID              = var.remote_log_conn_id
    AIRFLOW__LOGGING__DELETE_LOCAL_LOGS               = "True"
    HEADRACE_DEPLOYMENT                               = local.deployment_path
  }, var.headrace_env)

  bootstrap_env = merge({
    CLOUD                      = var.cloud
    HEADRACE_WHEEL_URL         = var.artifact.url
    HEADRACE_WHEEL_SHA256      = var.artifact.sha256
    HEADRACE_EXTRAS            = var.artifact.extras
    AIRFLOW_PROVIDERS          = join(" ", var.airflow_providers)
    HEADRACE_WORKER_IMAGE      = var.worker_image
    AIRFLOW_SOURCE_CIDR        = var.airflow_source_cidr
    SECRET_ADMIN_PASSWORD      = var.secrets.admin_password
    SECRET_DEPLOY_KEY          = var.secrets.deploy_key
    SECRET_WORKER_SSH_PRIVATE  = var.secrets.worker_ssh_private
    SECRET_WORKER_SSH_PUBLIC   = var.secrets.worker_ssh_public
    SECRET_WORKER_SSH_HOST_KEY = var.secrets.worker_ssh_host_key
    # The Airflow VM's known_hosts names the worker at this address (worker_host_key).
    WORKER_HOST = var.worker_host
  }, var.bootstrap_env)

  # Values are double-quoted: systemd and bash read KEY="value" the same way as long as a
  # value holds no quote, backslash, dollar or backtick (the variables' validations; every
  # other value is an address, name or ARN made by Terraform).
  env_file       = join("", [for k in sort(keys(local.env)) : "${k}=\"${local.env[k]}\"\n"])
  bootstrap_file = join("", [for k in sort(keys(local.bootstrap_env)) : "${k}=\"${local.bootstrap_env[k]}\"\n"])

  # Where this install keeps its data: laid over project.yaml's blocks by Headrace
  # (headrace.project.deployment). No secret values: ${secret:NAME} references only.
  # The Airflow VM's file also names the worker VM (worker:), with the address and SSH login
  # this module sets up; the worker VM's own file leaves it out (it does not start itself, and its user
  # data cannot name the instance it belongs to).
  # (Two YAML texts joined: a conditional between objects of different attributes would turn
  # every value into a string.)
  worker_block = var.worker == null ? "" : yamlencode({
    worker = merge(var.worker, { host = var.worker_host, ssh_user = local.worker_ssh_user, ssh_key_file = local.worker_ssh_key_file })
  })
  deployment_header = join("", [
    "# Headrace deployment settings, rendered by Terraform (infrastructure/modules/bootstrap).\n",
    "# These blocks replace project.yaml's blocks of the same name while HEADRACE_DEPLOYMENT names this file.\n",
  ])
  airflow_deployment_file = "${local.deployment_header}${yamlencode(var.deployment)}${local.worker_block}"
  worker_deployment_file  = "${local.deployment_header}${yamlencode(var.deployment)}"

  common_files = [
    { path = "/etc/headrace/env", mode = "0644", content = local.env_file },
    { path = "/etc/headrace/bootstrap.env", mode = "0600", content = local.bootstrap_file },
    { path = "/usr/local/sbin/headrace-bootstrap", mode = "0755", content = file("${path.module}/files/headrace-bootstrap.sh") },
    { path = "/usr/local/lib/headrace/secrets.sh", mode = "0644", content = file("${path.module}/files/secrets-${var.cloud}.sh") },
    { path = "/etc/systemd/system/headrace-setup@.service", mode = "0644", content = file("${path.module}/files/headrace-setup@.service") },
  ]

  airflow_files = concat(local.common_files, [
    { path = local.deployment_path, mode = "0644", content = local.airflow_deployment_file },
    { path = "/usr/local/lib/headrace/nginx-airflow.conf", mode = "0644", content = file("${path.module}/files/nginx-airflow.conf") },
    { path = "/etc/systemd/system/airflow@.service", mode = "0644", content = file("${path.module}/files/airflow@.service") },
    { path = "/etc/systemd/system/headrace-project.service", mode = "0644", content = file("${path.module}/files/headrace-project.service") },
    { path = "/etc/systemd/system/headrace-unpause.service", mode = "0644", content = file("${path.module}/files/headrace-unpause.service") },
  ])

  worker_files = concat(local.common_files, [
    { path = local.deployment_path, mode = "0644", content = local.worker_deployment_file },
    { path = "/etc/systemd/system/headrace-worker-keys.service", mode = "0644", content = file("${path.module}/files/headrace-worker-keys.service") },
  ])
}
