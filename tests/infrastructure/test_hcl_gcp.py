"""GCP security properties, asserted on the parsed HCL (the google provider cannot be
installed here, so there is no plan to inspect)."""

from __future__ import annotations

import pytest

from tests.infrastructure.hcl import Config, flat, load

pytestmark = pytest.mark.infra

IAP_RANGE = "35.235.240.0/20"


@pytest.fixture(scope="module")
def gcp() -> Config:
    return load("gcp")


def test_firewall_opens_only_https_to_allowed_cidrs_and_ssh_to_iap_and_airflow(gcp: Config) -> None:
    rules = {b.name: b.body for b in gcp.resources("google_compute_firewall")}
    assert set(rules) == {"airflow_https", "iap_ssh", "worker_ssh_from_airflow"}
    for name, rule in rules.items():
        assert rule["direction"] == "INGRESS", name
        assert "0.0.0.0/0" not in flat(rule), f"{name} is open to the internet"
        ports = [p for allow in rule["allow"] for p in allow["ports"]]
        assert all(a["protocol"] == "tcp" for a in rule["allow"])
        if ports == ["443"]:
            assert rule["source_ranges"] == "${var.allowed_cidrs}", name
        else:
            assert ports == ["22"], name
            assert rule.get("source_ranges") in (["${local.iap_range}"], None), name
            if "source_ranges" not in rule:
                assert rule["source_service_accounts"] == ['${google_service_account.this["airflow"].email}']
    assert gcp.files["locals.tf"]["locals"][0]["iap_range"] == IAP_RANGE
    https = rules["airflow_https"]
    assert https["target_service_accounts"] == ['${google_service_account.this["airflow"].email}']


def test_workers_reach_the_internet_through_cloud_nat_only(gcp: Config) -> None:
    nat = gcp.one("google_compute_router_nat", "this").body
    assert nat["source_subnetwork_ip_ranges_to_nat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    worker = gcp.one("module", "worker_vm").body
    assert "external_ip" not in worker
    assert worker["desired_status"] == "TERMINATED", "the worker is created, then stopped"
    vm = gcp.one("google_compute_instance", "this").body
    access = vm["network_interface"][0]["dynamic"][0]["access_config"]
    assert access["for_each"] == "${var.external_ip == null ? [] : [var.external_ip]}"


def test_vms_use_os_login_shielded_boot_and_no_serial_port(gcp: Config) -> None:
    vm = gcp.one("google_compute_instance", "this").body
    metadata = vm["metadata"]
    assert metadata["enable-oslogin"] == "TRUE"
    assert metadata["block-project-ssh-keys"] == "TRUE"
    assert metadata["serial-port-enable"] == "FALSE"
    shielded = vm["shielded_instance_config"][0]
    assert shielded["enable_secure_boot"] is True and shielded["enable_vtpm"] is True


def test_bucket_is_private_versioned_and_expires_raw_files(gcp: Config) -> None:
    bucket = gcp.one("google_storage_bucket", "this").body
    assert bucket["public_access_prevention"] == "enforced"
    assert bucket["uniform_bucket_level_access"] is True
    assert bucket["versioning"][0]["enabled"] is True
    raw_rules = [r for r in bucket["lifecycle_rule"] if r["condition"][0].get("matches_prefix") == ["raw/"]]
    assert len(raw_rules) == 1
    assert raw_rules[0]["action"][0]["type"] == "Delete"
    assert raw_rules[0]["condition"][0]["age"] == "${var.raw_retention_days}"
    no_public = [b for b in gcp.resources("google_storage_bucket_iam_member")]
    assert all("allUsers" not in flat(b.body) for b in no_public)


def test_grants_are_least_privilege(gcp: Config) -> None:
    text = gcp.text()
    for primitive in ("roles/owner", "roles/editor", "roles/viewer", "roles/storage.admin", "roles/bigquery.admin"):
        assert primitive not in text, f"{primitive} is granted"
    iam = gcp.files["iam.tf"]["locals"][0]
    writers = {
        "roles/storage.objectUser",
        "roles/storage.objectAdmin",
        "roles/bigquery.dataOwner",
        "roles/bigquery.dataEditor",
    }
    for group in ("bucket_grants", "project_grants"):
        for key, grant in iam[group].items():
            if grant["role"] in writers:
                assert grant["expr"] and "startsWith" in grant["expr"], (
                    f"{group}.{key} writes without a prefix condition"
                )
    # Each VM acts only as its own service account; transformation is impersonated, not owned.
    vms = {b.name: b.body for b in gcp.blocks if b.kind == "module" and b.name.endswith("_vm")}
    assert vms["airflow_vm"]["service_account_email"] == '${google_service_account.this["airflow"].email}'
    assert vms["worker_vm"]["service_account_email"] == '${google_service_account.this["worker"].email}'


def test_secrets_are_readable_only_by_their_component(gcp: Config) -> None:
    readers = gcp.files["secrets.tf"]["locals"][0]["secret_readers"]
    assert readers == {
        "admin-password": ["airflow"],
        "project-deploy-key": ["airflow"],
        "worker-ssh-private-key": ["airflow"],
        "worker-ssh-public-key": ["worker"],
        "worker-ssh-host-key": ["airflow", "worker"],  # made by Airflow, installed by the worker
    }
    assert not gcp.resources("google_secret_manager_secret_iam_binding")
    assert not gcp.resources("google_project_iam_binding"), "bindings would remove other members of the project"


def test_bigquery_is_the_warehouse(gcp: Config) -> None:
    assert gcp.one("google_bigquery_dataset", "meta").body["dataset_id"] == "headrace_meta"
    bootstrap = gcp.one("module", "bootstrap").body
    assert bootstrap["remote_log_folder"] == "gs://${google_storage_bucket.this.name}/logs/airflow"


def test_the_wheel_is_an_object_of_the_install_s_bucket_installed_with_its_sha256(gcp: Config) -> None:
    wheel = gcp.one("google_storage_bucket_object", "headrace_wheel").body
    assert wheel["bucket"] == "${google_storage_bucket.this.name}"
    assert wheel["source"] == "${var.headrace_wheel}"
    assert wheel["metadata"] == {"sha256": "${local.wheel_sha256}"}
    locals_ = {k: v for entry in gcp.files["deployment.tf"]["locals"] for k, v in entry.items()}
    assert locals_["wheel_sha256"] == "${filesha256(var.headrace_wheel)}"
    assert locals_["wheel_key"].startswith("artifacts/")
    artifact = gcp.one("module", "bootstrap").body["artifact"]
    assert (
        artifact["url"] == "gs://${google_storage_bucket.this.name}/${google_storage_bucket_object.headrace_wheel.name}"
    )
    assert artifact["sha256"] == "${local.wheel_sha256}"
    # Only the Airflow VM reads it (objectViewer on the bucket); no grant writes under artifacts/.
    grants = gcp.files["iam.tf"]["locals"][0]["bucket_grants"]
    assert grants["airflow-read"]["role"] == "roles/storage.objectViewer" and grants["airflow-read"]["expr"] is None
    assert all("artifacts/" not in str(g["expr"]) for g in grants.values())


def test_the_deployment_settings_point_at_this_bucket_bigquery_and_secret_manager(gcp: Config) -> None:
    locals_ = {k: v for entry in gcp.files["deployment.tf"]["locals"] for k, v in entry.items()}
    assert locals_["deployment"] == {
        "storage": {"type": "gcs", "bucket": "${google_storage_bucket.this.name}", "project": "${var.project}"},
        "warehouse": {
            "type": "bigquery",
            "project": "${var.project}",
            "location": "${local.bq_location}",
            "transformation_service_account": '${google_service_account.this["transformation"].email}',
            "default_reader": 'serviceAccount:${google_service_account.this["datamart-reader"].email}',
        },
        "secrets": {"type": "gcp", "project": "${var.project}", "prefix": "${local.project_secret_prefix}"},
    }
    assert locals_["project_secret_prefix"] == "${var.name}-project-"
    assert gcp.one("module", "bootstrap").body["deployment"] == "${local.deployment}"


def test_the_airflow_vm_reads_the_project_s_secrets_and_writes_raw_files(gcp: Config) -> None:
    iam = gcp.files["iam.tf"]["locals"][0]
    prefixed = (
        'resource.name.startsWith("projects/${data.google_project.this.number}/secrets/${local.project_secret_prefix}")'
    )
    grants = {k: g for k, g in iam["project_grants"].items() if "secretmanager" in g["role"]}
    assert {k: g["role"] for k, g in grants.items()} == {
        "airflow-project-secrets": "roles/secretmanager.secretAccessor",
        "airflow-created-secrets": "roles/secretmanager.admin",  # datamart reader credentials
    }
    for grant in grants.values():
        assert grant["member"] == '${local.sa["airflow"]}'
        assert grant["expr"].replace('\\"', '"') == prefixed, "only the project's secrets, not the install's own"
    write = iam["bucket_grants"]["airflow-write-logs"]["expr"]
    assert all(f"${{local.bucket_objects}}{p}/" in write for p in ("raw", "logs", "datamarts"))


def test_the_airflow_vm_gets_a_gcp_vm_worker_block_naming_the_worker_instance(gcp: Config) -> None:
    from headrace.workers.vm.gcp import GcpVmWorkerConfig

    locals_ = {k: v for entry in gcp.files["deployment.tf"]["locals"] for k, v in entry.items()}
    worker = locals_["worker"]
    assert worker == {
        "type": "gcp_vm",
        "project": "${var.project}",
        "zone": "${local.zone}",
        "instance": "${module.worker_vm.name}",
        "idle_stop_after": "${var.worker_idle_stop_after}",
    }
    fields = GcpVmWorkerConfig.model_fields
    assert set(worker) <= set(fields), "every key is a field of the gcp_vm worker"
    assert {k for k, f in fields.items() if f.is_required()} <= set(worker)
    # host (the worker's address), ssh_user and ssh_key_file: added by the bootstrap module.
    assert {"host", "ssh_user", "ssh_key_file"} <= set(fields)
    assert gcp.one("module", "bootstrap").body["worker_host"] == "${local.worker_ip}"
    assert gcp.one("module", "bootstrap").body["worker"] == "${local.worker}"
    assert gcp.one("module", "worker_vm").body["network_ip"] == "${local.worker_ip}", "host is the worker's address"
    env = gcp.one("module", "bootstrap").body["headrace_env"]
    assert not [k for k in env if k.startswith("HEADRACE_WORKER")]


def test_the_airflow_account_may_read_start_and_stop_the_worker_instance_and_nothing_else(gcp: Config) -> None:
    """Asserted on the HCL: no GCP emulator evaluates IAM. The custom role is granted on the
    worker instance alone, and nothing about compute on the project."""
    role = gcp.one("google_project_iam_custom_role", "worker_operator").body
    # a suffix per install: a role id stays taken for 37 days after a destroy
    assert role["role_id"].endswith("_${random_id.role_suffix.hex}")
    assert sorted(role["permissions"]) == ["compute.instances.get", "compute.instances.start", "compute.instances.stop"]
    grant = gcp.one("google_compute_instance_iam_member", "airflow_controls_worker").body
    assert grant["instance_name"] == "${module.worker_vm.name}" and grant["zone"] == "${local.zone}"
    assert grant["role"] == "${google_project_iam_custom_role.worker_operator.id}"
    assert grant["member"] == '${local.sa["airflow"]}'
    assert gcp.resources("google_compute_instance_iam_member") == [gcp.one("google_compute_instance_iam_member",
                                                                            "airflow_controls_worker")]  # fmt: skip
    assert [b.name for b in gcp.resources("google_project_iam_custom_role")] == ["worker_operator"]
    # No predefined compute role anywhere, and none for the worker's own account.
    members = [b.body for b in gcp.blocks if b.kind.endswith("_iam_member")]
    roles = {m["role"] for m in members} | {g["role"] for group in ("bucket_grants", "project_grants")
                                            for g in gcp.files["iam.tf"]["locals"][0][group].values()}  # fmt: skip
    assert {r for r in roles if r.startswith("roles/compute.")} == {"roles/compute.osAdminLogin"}, "people's shells"
    grants = gcp.files["iam.tf"]["locals"][0]["project_grants"]
    worker_roles = {g["role"] for g in grants.values() if g["member"] == '${local.sa["worker"]}'}
    assert worker_roles == {"roles/logging.logWriter"}
