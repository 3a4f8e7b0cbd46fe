"""Azure security properties, asserted on the parsed HCL (the azurerm provider cannot be
installed here, so there is no plan to inspect)."""

from __future__ import annotations

import re

import pytest

from tests.infrastructure.hcl import Config, flat, load

pytestmark = pytest.mark.infra

OPEN_SOURCES = {"*", "0.0.0.0/0", "Internet", "Any", "0.0.0.0"}


@pytest.fixture(scope="module")
def azure() -> Config:
    return load("azure")


def _rules(azure: Config) -> dict[str, list[dict[str, object]]]:
    return {b.name: b.body["security_rule"] for b in azure.resources("azurerm_network_security_group")}


def test_nsgs_allow_https_from_allowed_cidrs_ssh_from_bastion_or_airflow_and_deny_the_rest(azure: Config) -> None:
    groups = _rules(azure)
    assert set(groups) == {"airflow", "worker", "postgres"}
    for group, rules in groups.items():
        for rule in rules:
            if rule["access"] == "Deny":
                continue
            assert rule["direction"] == "Inbound"
            sources = flat([rule.get("source_address_prefix"), rule.get("source_address_prefixes")])
            assert not OPEN_SOURCES & set(sources), f"{group}/{rule['name']} allows the internet"
            port = rule["destination_port_range"]
            if port == "443":
                assert rule["source_address_prefixes"] == "${var.allowed_cidrs}"
            elif port == "22":
                assert rule["source_address_prefix"] in ("${local.bastion_source}", "${local.subnets.airflow}")
            else:
                assert (group, port) == ("postgres", "5432")
        denies = [r for r in rules if r["access"] == "Deny" and r["source_address_prefix"] == "*"]
        assert len(denies) == 1 and denies[0]["priority"] == 4000, f"{group} lacks its deny-all rule"
    https = [r for r in groups["airflow"] if r["destination_port_range"] == "443"]
    assert len(https) == 1
    assert all(r["destination_port_range"] != "443" for r in groups["worker"])


def test_shells_go_through_bastion_and_the_worker_has_no_public_ip(azure: Config) -> None:
    assert azure.one("azurerm_bastion_host", "this")
    assert azure.one("module", "worker_vm").body.get("public_ip_id") is None
    assert azure.one("azurerm_subnet_nat_gateway_association", "worker")
    assert azure.one("azurerm_subnet", "worker").body["default_outbound_access_enabled"] is False
    vm = azure.one("azurerm_linux_virtual_machine", "this").body
    assert vm["disable_password_authentication"] is True
    assert vm["encryption_at_host_enabled"] is True


def test_storage_is_private_entra_only_versioned_and_expires_raw_files(azure: Config) -> None:
    account = azure.one("azurerm_storage_account", "this").body
    assert account["shared_access_key_enabled"] is False
    assert account["allow_nested_items_to_be_public"] is False
    assert account["https_traffic_only_enabled"] is True
    assert account["min_tls_version"] == "TLS1_2"
    assert account["infrastructure_encryption_enabled"] is True
    assert account["blob_properties"][0]["versioning_enabled"] is True
    rules = account["network_rules"][0]
    assert rules["default_action"] == "Deny"
    assert azure.one("azurerm_storage_container", "this").body["container_access_type"] == "private"
    policy = azure.one("azurerm_storage_management_policy", "this").body
    raw = [r for r in policy["rule"] if r["filters"][0].get("prefix_match") == ["${local.container}/raw/"]]
    assert len(raw) == 1
    delete_after = raw[0]["actions"][0]["base_blob"][0]["delete_after_days_since_modification_greater_than"]
    assert delete_after == "${var.raw_retention_days}"


def test_key_vault_uses_rbac_purge_protection_and_a_closed_network(azure: Config) -> None:
    vault = azure.one("azurerm_key_vault", "this").body
    assert vault["enable_rbac_authorization"] is True
    assert vault["purge_protection_enabled"] is True
    assert vault["network_acls"][0]["default_action"] == "Deny"
    grants = next(x["vault_grants"] for x in azure.files["keyvault.tf"]["locals"] if "vault_grants" in x)
    assert grants["worker-ssh-public-key/worker"] == "Key Vault Secrets User"
    worker_grants = [k for k in grants if k.endswith("/worker")]
    assert worker_grants == ["worker-ssh-public-key/worker", "worker-ssh-host-key/worker"]
    assert grants["worker-ssh-host-key/worker"] == "Key Vault Secrets User", "the worker reads its host key only"
    secret_assignment = azure.one("azurerm_role_assignment", "secret").body
    assert secret_assignment["scope"].startswith("${local.secret_ids["), "grants are per secret, not per vault"


def test_role_assignments_are_data_plane_and_prefix_scoped(azure: Config) -> None:
    text = azure.text()
    for broad in ('"Owner"', '"Contributor"', '"Storage Account Contributor"', '"Key Vault Administrator"'):
        assert f"role_definition_name = {broad}" not in text
    assert '/subscriptions/${var.subscription_id}"' not in text, "nothing is granted on the whole subscription"
    source = (azure.root / "storage.tf").read_text()
    writes = re.findall(
        r'(\S+)\s*=\s*\{[^}]*role = "Storage Blob Data Contributor"[^}]*prefixes = \[([^\]]*)\]', source
    )
    assert {name: prefixes for name, prefixes in writes} == {
        "airflow-write": '"raw/", "logs/", "datamarts/"',
        "worker-raw": '"raw/"',
        "transform-own": '"transformations/"',
        "installer-artifacts": '"artifacts/"',
    }
    assert re.search(r'worker-raw\s+= \{ principal = azurerm_user_assigned_identity\.this\["worker"\]', source)
    blob = azure.one("azurerm_role_assignment", "blob").body
    assert blob["scope"] == "${azurerm_storage_container.this.id}"
    assert "StringStartsWith" in blob["condition"]


def test_postgres_is_private_and_the_worker_is_deallocated_by_the_installer(azure: Config) -> None:
    server = azure.one("azurerm_postgresql_flexible_server", "warehouse").body
    assert server["public_network_access_enabled"] is False
    assert "administrator_password_wo" in server and "administrator_password" not in server
    installer = (azure.root.parent / "install-cloud.sh").read_text()
    assert "az vm deallocate" in installer


def test_the_wheel_is_a_blob_of_the_install_s_container_installed_with_its_sha256(azure: Config) -> None:
    blob = azure.one("azurerm_storage_blob", "headrace_wheel").body
    assert blob["storage_container_name"] == "${azurerm_storage_container.this.name}"
    assert blob["source"] == "${var.headrace_wheel}"
    assert blob["metadata"] == {"sha256": "${local.wheel_sha256}"}
    locals_ = {k: v for entry in azure.files["deployment.tf"]["locals"] for k, v in entry.items()}
    assert locals_["wheel_sha256"] == "${filesha256(var.headrace_wheel)}"
    assert locals_["wheel_key"].startswith("artifacts/")
    for name in ("bootstrap", "bootstrap_worker"):
        artifact = azure.one("module", name).body["artifact"]
        assert artifact["url"] == "${local.account_url}/${local.container}/${azurerm_storage_blob.headrace_wheel.name}"
        assert artifact["sha256"] == "${local.wheel_sha256}"
    # The Airflow identity reads the whole container (artifacts/ included); no one else may write there.
    grants = (azure.root / "storage.tf").read_text()
    assert re.search(
        r'airflow-read\s+= \{ principal = azurerm_user_assigned_identity\.this\["airflow"\]\.principal_id, '
        r'role = "Storage Blob Data Reader", limit = "read", prefixes = \[\] \}',
        grants,
    )


def test_the_deployment_settings_point_at_this_container_warehouse_and_key_vault(azure: Config) -> None:
    locals_ = {k: v for entry in azure.files["deployment.tf"]["locals"] for k, v in entry.items()}
    deployment = locals_["deployment"]
    assert deployment["storage"] == {
        "type": "azure",
        "account_url": "${local.account_url}",
        "container": "${local.container}",
    }
    assert deployment["secrets"] == {
        "type": "azure",
        "vault_url": "${azurerm_key_vault.this.vault_uri}",
        "prefix": "${local.project_secret_prefix}",
    }
    assert locals_["project_secret_prefix"] == "project-"
    warehouse = deployment["warehouse"]
    assert "snowflake" in warehouse and "postgres" in warehouse, warehouse
    assert "$${secret:postgres_password}" in warehouse and "$${secret:snowflake_password}" in warehouse
    for name in ("bootstrap", "bootstrap_worker"):
        assert azure.one("module", name).body["deployment"] == "${local.deployment}"
    # Key Vault names allow no '_': ${secret:postgres_password} is the secret project-postgres-password.
    names = {
        n: azure.one("azurerm_key_vault_secret", n).body["name"] for n in ("postgres_password", "snowflake_password")
    }
    assert names == {
        "postgres_password": "${local.project_secret_prefix}postgres-password",
        "snowflake_password": "${local.project_secret_prefix}snowflake-password",
    }
    # Resolving the project's secrets and keeping created credentials (datamart readers): the
    # Airflow identity only; data-plane secrets role, never Key Vault Administrator.
    grant = azure.one("azurerm_role_assignment", "airflow_project_secrets").body
    assert grant["scope"] == "${azurerm_key_vault.this.id}"
    assert grant["role_definition_name"] == "Key Vault Secrets Officer"
    assert grant["principal_id"] == '${azurerm_user_assigned_identity.this["airflow"].principal_id}'


def test_the_airflow_vm_gets_an_azure_vm_worker_block_naming_the_worker_vm(azure: Config) -> None:
    from headrace.workers.vm.azure import AzureVmWorkerConfig

    locals_ = {k: v for entry in azure.files["deployment.tf"]["locals"] for k, v in entry.items()}
    worker = locals_["worker"]
    assert worker == {
        "type": "azure_vm",
        "subscription_id": "${var.subscription_id}",
        "resource_group": "${azurerm_resource_group.this.name}",
        "vm_name": "${module.worker_vm.name}",
        "idle_stop_after": "${var.worker_idle_stop_after}",
    }
    fields = AzureVmWorkerConfig.model_fields
    assert set(worker) <= set(fields), "every key is a field of the azure_vm worker"
    assert {k for k, f in fields.items() if f.is_required()} <= set(worker)
    # host (the worker's address), ssh_user and ssh_key_file: added by the bootstrap module.
    assert {"host", "ssh_user", "ssh_key_file"} <= set(fields)
    assert azure.one("module", "bootstrap").body["worker_host"] == "${local.worker_ip}"
    assert azure.one("module", "bootstrap").body["worker"] == "${local.worker}"
    assert "worker" not in azure.one("module", "bootstrap_worker").body, "the worker VM does not start itself"
    assert azure.one("module", "worker_vm").body["private_ip"] == "${local.worker_ip}"
    env = azure.one("module", "bootstrap").body["headrace_env"]
    assert not [k for k in env if k.startswith("HEADRACE_WORKER")]


def test_the_airflow_identity_may_read_start_and_deallocate_the_worker_vm_and_nothing_else(azure: Config) -> None:
    """Asserted on the HCL: no Azure emulator evaluates RBAC. A custom role, assigned on the
    worker VM alone, to the Airflow identity alone."""
    role = azure.one("azurerm_role_definition", "worker_operator").body
    assert sorted(role["permissions"][0]["actions"]) == [
        "Microsoft.Compute/virtualMachines/deallocate/action",
        "Microsoft.Compute/virtualMachines/instanceView/read",
        "Microsoft.Compute/virtualMachines/read",
        "Microsoft.Compute/virtualMachines/start/action",
    ]
    assert "not_actions" not in role["permissions"][0] and "data_actions" not in role["permissions"][0]
    assignments = {b.name: b.body for b in azure.resources("azurerm_role_assignment")}
    compute = {n: a for n, a in assignments.items() if "worker_operator" in str(a.get("role_definition_id"))}
    assert list(compute) == ["airflow_operates_worker"]
    assert compute["airflow_operates_worker"]["scope"] == "${module.worker_vm.id}"
    assert compute["airflow_operates_worker"]["principal_id"] == (
        '${azurerm_user_assigned_identity.this["airflow"].principal_id}'
    )
    for name in ('"Virtual Machine Contributor"', '"Virtual Machine Administrator Login"'):
        assert f"role_definition_name = {name}" not in azure.text()
