#!/usr/bin/env bash
# Install, upgrade, plan or destroy Headrace in a cloud account with Terraform.
#
#   ./install.sh gcp   --project P --region R --allowed-cidr CIDR --project-repo URL [options]
#   ./install.sh aws   --region R --allowed-cidr CIDR --project-repo URL [options]
#   ./install.sh azure --subscription S --location L --allowed-cidr CIDR --project-repo URL [options]
#   ./install.sh plan CLOUD [options]       show what an install or upgrade would change
#   ./install.sh destroy CLOUD [options]    delete the install, its bucket and warehouse included
#
# Options (all clouds):
#   --allowed-cidr CIDR     who may open the Airflow UI (repeatable; required; never 0.0.0.0/0)
#   --project-repo URL      git URL of your Headrace project (required)
#   --project-branch B      branch to follow (default main)
#   --warehouse W           bigquery (gcp) | snowflake | postgres (aws, azure)
#   --wheel FILE            Headrace wheel the VMs install (default: built from this checkout with
#                           $HEADRACE_PYTHON -m pip wheel, or uv build if HEADRACE_WHEEL_BUILDER=uv)
#   --deploy-key FILE       SSH deploy key of a private project repository, put in the secret store
#   --name NAME             install name, prefixes every resource (default headrace)
#   --state-dir DIR         where tfvars, state and plans live (default ~/.headrace/install/CLOUD/NAME)
#   --var KEY=VALUE         any other Terraform variable (VALUE parsed as JSON when it is JSON)
#   --yes                   do not ask before applying or destroying
#   --dry-run               print the tfvars and the commands, change nothing
# Cloud options: --project P --region R --zone Z (gcp); --region R --ami ID --endpoint URL (aws,
# URL of a local emulator such as moto); --subscription S --location L (azure).
#
# Re-running an install with the same state dir upgrades it in place; options not given again
# keep their earlier values.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'install-cloud: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

# ---- arguments ---------------------------------------------------------------------------

ACTION="" CLOUD=""
case "${1:-}" in
    gcp|aws|azure) ACTION=install; CLOUD="$1"; shift ;;
    plan|destroy)
        ACTION="$1"; shift
        case "${1:-}" in
            gcp|aws|azure) CLOUD="$1"; shift ;;
            *) die "'$ACTION' needs a cloud: ./install.sh $ACTION gcp|aws|azure [options]" ;;
        esac ;;
    -h|--help|help|"") usage; exit 0 ;;
    *) usage >&2; die "unknown command '$1'" ;;
esac

NAME=headrace STATE_DIR="" DRY_RUN=0 YES=0 DEPLOY_KEY="" WHEEL=""
CIDRS=() TF_STR=() TF_JSON=()

need_value() {
    if [ $# -lt 2 ] || [ -z "$2" ]; then die "option $1 needs a value"; fi
}

while [ $# -gt 0 ]; do
    opt="$1"
    case "$opt" in
        --yes|-y) YES=1; shift; continue ;;
        --dry-run) DRY_RUN=1; shift; continue ;;
        -h|--help) usage; exit 0 ;;
    esac
    need_value "$@"
    val="$2"
    shift 2
    case "$opt" in
        --allowed-cidr) CIDRS+=("$val") ;;
        --project-repo) TF_STR+=("project_repo=$val") ;;
        --project-branch) TF_STR+=("project_branch=$val") ;;
        --warehouse) TF_STR+=("warehouse=$val") ;;
        --wheel) WHEEL="$val" ;;
        --deploy-key) DEPLOY_KEY="$val" ;;
        --name) NAME="$val"; TF_STR+=("name=$val") ;;
        --state-dir) STATE_DIR="$val" ;;
        --var) TF_JSON+=("$val") ;;
        --project) [ "$CLOUD" = gcp ] || die "--project is a gcp option"; TF_STR+=("project=$val") ;;
        --zone) [ "$CLOUD" = gcp ] || die "--zone is a gcp option"; TF_STR+=("zone=$val") ;;
        --region) [ "$CLOUD" != azure ] || die "on azure use --location"; TF_STR+=("region=$val") ;;
        --ami) [ "$CLOUD" = aws ] || die "--ami is an aws option"; TF_STR+=("ami_id=$val") ;;
        --endpoint) [ "$CLOUD" = aws ] || die "--endpoint is an aws option"; TF_STR+=("endpoint=$val") ;;
        --subscription) [ "$CLOUD" = azure ] || die "--subscription is an azure option"; TF_STR+=("subscription_id=$val") ;;
        --location) [ "$CLOUD" = azure ] || die "--location is an azure option"; TF_STR+=("location=$val") ;;
        *) usage >&2; die "unknown option '$opt'" ;;
    esac
done

for cidr in ${CIDRS[@]+"${CIDRS[@]}"}; do
    [[ "$cidr" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]] ||
        die "--allowed-cidr '$cidr' is not an IPv4 CIDR: give your address as 203.0.113.10/32"
    [[ "$cidr" != */0 ]] ||
        die "--allowed-cidr '$cidr' would open the Airflow UI to the whole internet: give your office, VPN or own address (e.g. 203.0.113.10/32)"
done
[ -z "$DEPLOY_KEY" ] || [ -r "$DEPLOY_KEY" ] || [ "$DRY_RUN" = 1 ] ||
    die "--deploy-key '$DEPLOY_KEY' is not a readable file"

STATE_DIR="${STATE_DIR:-${HEADRACE_INSTALL_DIR:-$HOME/.headrace/install}/$CLOUD/$NAME}"
TFVARS="$STATE_DIR/terraform.tfvars.json"
MODULE="$ROOT/infrastructure/$CLOUD"
TF=(terraform "-chdir=$MODULE")
export TF_DATA_DIR="$STATE_DIR/.terraform" TF_IN_AUTOMATION=1

# A local provider mirror (offline machines, CI): HEADRACE_TF_PROVIDER_MIRROR=/path/to/mirror.
tf_cli_config() {
    [ -n "${HEADRACE_TF_PROVIDER_MIRROR:-}" ] || return 0
    local rc="$STATE_DIR/terraformrc"
    if [ "$DRY_RUN" = 1 ]; then
        echo "# providers from the mirror $HEADRACE_TF_PROVIDER_MIRROR (TF_CLI_CONFIG_FILE=$rc)"
        return 0
    fi
    cat >"$rc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$HEADRACE_TF_PROVIDER_MIRROR"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
RC
    export TF_CLI_CONFIG_FILE="$rc"
}

# run CMD...: show the command, then run it (only show it in a dry run).
run() {
    if [ "$DRY_RUN" = 1 ]; then
        printf '%q ' "$@" | sed 's/ $//'
        echo
    else
        printf '+ %s\n' "$*" >&2
        "$@"
    fi
}

# ---- tfvars --------------------------------------------------------------------------

REQUIRED=(project_repo allowed_cidrs)
case "$CLOUD" in
    gcp) REQUIRED+=(project region) ;;
    aws) REQUIRED+=(region) ;;
    azure) REQUIRED+=(subscription_id location admin_ssh_public_key) ;;
esac

fix_for() {  # the option that sets a Terraform variable
    case "$1" in
        project_repo) echo "--project-repo git@github.com:ORG/REPO.git" ;;
        allowed_cidrs) echo "--allowed-cidr YOUR.PUBLIC.IP.ADDRESS/32 (the address your browser reaches the internet from; the installer cannot find it offline)" ;;
        project) echo "--project YOUR_GCP_PROJECT_ID" ;;
        region) echo "--region REGION (e.g. $([ "$CLOUD" = gcp ] && echo europe-west1 || echo eu-west-1))" ;;
        subscription_id) echo "--subscription SUBSCRIPTION_ID (az account show --query id -o tsv)" ;;
        location) echo "--location LOCATION (e.g. westeurope)" ;;
        *) echo "--var $1=VALUE" ;;
    esac
}

write_tfvars() {
    local args=("$TFVARS") item key
    [ "$DRY_RUN" = 1 ] && args+=(--dry-run)
    for item in ${TF_STR[@]+"${TF_STR[@]}"}; do args+=(--str "$item"); done
    for item in ${TF_JSON[@]+"${TF_JSON[@]}"}; do args+=(--json "$item"); done
    if [ ${#CIDRS[@]} -gt 0 ]; then
        args+=(--list "allowed_cidrs=$(IFS=,; echo "${CIDRS[*]}")")
    fi
    if [ "$CLOUD" = azure ] && [ -z "$(tfvar admin_ssh_public_key)" ]; then
        # Azure insists on an admin SSH key; shells go through Bastion, this is break-glass.
        # Set once: a new key on a later run would replace both VMs.
        args+=(--str "admin_ssh_public_key=$(azure_admin_key)")
    fi
    if [ "$ACTION" = install ] || [ "$ACTION" = plan ]; then
        for key in "${REQUIRED[@]}"; do args+=(--require "$key"); done
    fi
    if [ "$DRY_RUN" = 0 ]; then
        mkdir -p "$STATE_DIR"
        chmod 0700 "$STATE_DIR"
    fi
    local out rc=0
    out="$(python3 "$HERE/tfvars.py" "${args[@]}" 2>&1)" || rc=$?
    if [ "$rc" = 3 ]; then
        local msg="missing settings for $CLOUD:" k
        for k in ${out#missing: }; do msg+=$'\n'"  $k: pass $(fix_for "$k")"; done
        die "$msg"
    fi
    [ "$rc" = 0 ] || die "could not write $TFVARS: $out"
    if [ "$DRY_RUN" = 1 ]; then
        # Nothing is written: later steps read the merged values from a scratch copy.
        TFVARS_VIEW="$(mktemp)"
        trap 'rm -f "$TFVARS_VIEW"' EXIT
        printf '%s\n' "$out" >"$TFVARS_VIEW"
        echo "# tfvars ($TFVARS):"
        printf '%s\n' "$out"
        echo "# commands (environment: TF_DATA_DIR=$TF_DATA_DIR):"
    fi
}

azure_admin_key() {
    local key="$STATE_DIR/admin_ed25519"
    if [ "$DRY_RUN" = 1 ]; then
        echo "PUBLIC_KEY_OF:$key.pub"
        return
    fi
    if [ ! -s "$key.pub" ]; then
        mkdir -p "$STATE_DIR"
        ssh-keygen -q -t ed25519 -N '' -C "headrace-$NAME-admin" -f "$key" >&2
    fi
    cat "$key.pub"
}

TFVARS_VIEW=""
tfvar() {  # tfvar KEY: a value of the merged tfvars (lists space-separated, booleans true/false)
    python3 -c '
import json, sys
v = json.load(open(sys.argv[1])).get(sys.argv[2])
print("" if v is None else " ".join(v) if isinstance(v, list) else json.dumps(v) if isinstance(v, bool) else v)
' "${TFVARS_VIEW:-$TFVARS}" "$1" 2>/dev/null || true
}

# ---- the Headrace wheel ----------------------------------------------------------------

# The VMs install Headrace from a wheel in the install's own bucket, never by name from a
# package index: build it from this checkout (or take --wheel FILE) and record its path in
# the tfvars; Terraform uploads it with its sha256 and the VMs check that hash.
build_wheel() {
    if [ -n "$WHEEL" ]; then
        case "$(basename "$WHEEL")" in
            headrace-*.whl) ;;
            *) die "--wheel '$WHEEL' is not a Headrace wheel (headrace-VERSION-py3-none-any.whl)" ;;
        esac
        [ "$DRY_RUN" = 1 ] || [ -f "$WHEEL" ] || die "--wheel '$WHEEL' is not a file"
        local dir
        dir="$(cd "$(dirname "$WHEEL")" 2>/dev/null && pwd)" || dir="$(dirname "$WHEEL")"
        TF_STR+=("headrace_wheel=$dir/$(basename "$WHEEL")")
        return 0
    fi
    local dist="$STATE_DIR/dist" version wheel
    version="$(python3 -c 'import sys, tomllib; print(tomllib.load(open(sys.argv[1], "rb"))["project"]["version"])' "$ROOT/pyproject.toml")" ||
        die "cannot read Headrace's version from $ROOT/pyproject.toml (python3 3.11 or newer is needed)"
    wheel="$dist/headrace-$version-py3-none-any.whl"
    if [ "$DRY_RUN" = 0 ]; then
        say "Building the Headrace wheel the VMs install"
        rm -rf "$dist"
        mkdir -p "$dist"
    fi
    local py="${HEADRACE_PYTHON:-python3}" build
    if [ "${HEADRACE_WHEEL_BUILDER:-pip}" = uv ]; then  # uv caches the build backend: seconds, not half a minute
        build=("$py" -m uv build --quiet --wheel --out-dir "$dist" "$ROOT")
    else
        build=("$py" -m pip wheel --quiet --no-deps --wheel-dir "$dist" "$ROOT")
    fi
    run "${build[@]}" ||
        die "could not build the Headrace wheel from $ROOT: see the message above (or pass --wheel FILE)"
    [ "$DRY_RUN" = 1 ] || [ -f "$wheel" ] || die "pip built no $wheel (found: $(ls "$dist"))"
    TF_STR+=("headrace_wheel=$wheel")
}

# ---- preflight -----------------------------------------------------------------------

preflight_terraform() {
    if [ "$DRY_RUN" = 1 ]; then run terraform version -json; return; fi
    command -v terraform >/dev/null 2>&1 ||
        die "terraform is not installed: install Terraform 1.11 or newer (docs/install-cloud.md, 'Before you start')"
    local version
    version="$(terraform version -json | python3 -c 'import json,sys; print(json.load(sys.stdin)["terraform_version"])')"
    python3 -c 'import sys; v=tuple(int(x) for x in sys.argv[1].split("-")[0].split(".")[:2]); sys.exit(v < (1, 11))' "$version" ||
        die "terraform $version is too old: Headrace needs 1.11 or newer (write-only secrets)"
}

preflight_aws() {
    local region endpoint args=()
    region="$(tfvar region)"
    endpoint="$(tfvar endpoint)"
    args=(--region "$region")
    [ -z "$endpoint" ] || args+=(--endpoint-url "$endpoint")
    if [ "$DRY_RUN" = 1 ]; then run aws sts get-caller-identity "${args[@]}"; return; fi
    command -v aws >/dev/null 2>&1 || die "the AWS CLI is not installed: install it (e.g. 'pip install awscli') and sign in"
    aws sts get-caller-identity "${args[@]}" >/dev/null 2>&1 ||
        die "the AWS CLI is not signed in: run 'aws configure' or 'aws sso login --profile P' and export AWS_PROFILE=P"
}

GCP_APIS=(cloudresourcemanager.googleapis.com serviceusage.googleapis.com compute.googleapis.com
    iam.googleapis.com iap.googleapis.com secretmanager.googleapis.com bigquery.googleapis.com
    storage.googleapis.com logging.googleapis.com)

preflight_gcp() {
    local project
    project="$(tfvar project)"
    if [ "$DRY_RUN" = 1 ]; then
        run gcloud auth print-access-token
        run gcloud auth application-default print-access-token
        run gcloud services list --enabled --project "$project" --format 'value(config.name)'
        return
    fi
    command -v gcloud >/dev/null 2>&1 || die "gcloud is not installed: install the Google Cloud CLI and sign in"
    gcloud auth print-access-token >/dev/null 2>&1 || die "gcloud is not signed in: run 'gcloud auth login'"
    gcloud auth application-default print-access-token >/dev/null 2>&1 ||
        die "Terraform has no Google credentials: run 'gcloud auth application-default login'"
    local enabled missing=() api
    enabled="$(gcloud services list --enabled --project "$project" --format 'value(config.name)' 2>/dev/null)" ||
        die "cannot list the APIs of project '$project': check the project id and that you may use it (roles/serviceusage.serviceUsageViewer)"
    for api in "${GCP_APIS[@]}"; do
        grep -qx "$api" <<<"$enabled" || missing+=("$api")
    done
    [ ${#missing[@]} -eq 0 ] ||
        die "APIs not enabled in project '$project': ${missing[*]}; enable them with: gcloud services enable ${missing[*]} --project $project"
}

preflight_azure() {
    local subscription
    subscription="$(tfvar subscription_id)"
    local feature=(az feature show --subscription "$subscription" --namespace Microsoft.Compute
        --name EncryptionAtHost --query properties.state --output tsv)
    if [ "$DRY_RUN" = 1 ]; then
        run az account show --subscription "$subscription" --output none
        run "${feature[@]}"
        return
    fi
    command -v az >/dev/null 2>&1 || die "the Azure CLI (az) is not installed: install it and run 'az login'"
    az account show --subscription "$subscription" --output none 2>/dev/null ||
        die "the Azure CLI is not signed in to subscription '$subscription': run 'az login' then 'az account set --subscription $subscription'"
    # The VMs encrypt their temp disks and caches at the host: a per-subscription feature.
    [ "$("${feature[@]}" 2>/dev/null)" = Registered ] ||
        die "encryption at host is not enabled in subscription '$subscription': run 'az feature register --namespace Microsoft.Compute --name EncryptionAtHost --subscription $subscription', wait until 'az feature show' says Registered, then 'az provider register --namespace Microsoft.Compute'"
}

# ---- Terraform -----------------------------------------------------------------------

confirm() {  # confirm PROMPT EXPECTED
    if [ "$YES" = 1 ] || [ "$DRY_RUN" = 1 ]; then return 0; fi
    [ -t 0 ] || die "no terminal to ask for confirmation: re-run with --yes"
    local answer
    read -r -p "$1 " answer
    [ "$answer" = "$2" ] || die "stopped: nothing was changed"
}

tf_init() {
    run "${TF[@]}" init -input=false -reconfigure "-backend-config=path=$STATE_DIR/terraform.tfstate"
}

output() {  # output NAME: a terraform output as raw text (a placeholder in a dry run)
    if [ "$DRY_RUN" = 1 ]; then echo "OUTPUT:$1"; return; fi
    "${TF[@]}" output -raw "$1"
}

post_apply() {
    if [ -n "$DEPLOY_KEY" ]; then
        say "Putting the deploy key into the secret store"
        local secret
        secret="$(output deploy_key_secret)"
        case "$CLOUD" in
            aws)
                local args=(--region "$(tfvar region)")
                [ -z "$(tfvar endpoint)" ] || args+=(--endpoint-url "$(tfvar endpoint)")
                run aws secretsmanager put-secret-value "${args[@]}" --secret-id "$secret" \
                    --secret-string "file://$DEPLOY_KEY" --query Name --output text ;;
            gcp)
                run gcloud secrets versions add "$secret" --project "$(tfvar project)" --data-file "$DEPLOY_KEY" ;;
            azure)
                run az keyvault secret set --vault-name "${secret%%/*}" --name "${secret#*/}" \
                    --file "$DEPLOY_KEY" --output none ;;
        esac
    fi
    if [ "$CLOUD" = azure ]; then
        # azurerm cannot leave a VM deallocated: the installer does it once after creating it.
        say "Deallocating the worker VM (Airflow starts it when a task needs it)"
        run az vm deallocate --resource-group "$(output resource_group)" --name "$(output worker_vm)" --no-wait
    fi
}

summary() {
    [ "$DRY_RUN" = 1 ] && return 0
    local url where command
    url="$(output airflow_url)"
    where="$(output admin_password_secret)"
    command="$(output admin_password_command)"
    cat <<MSG

Headrace is installed on $CLOUD ($NAME).
  Airflow UI:      $url
                   (reachable from $(tfvar allowed_cidrs) only; self-signed certificate until you install
                   your own: see docs/install-cloud.md. Give the VM ~10 minutes to finish setting up.)
  User:            admin
  Password:        stored in $where
                   $command
  Deploy key:      $(output deploy_key_secret)$([ -n "$DEPLOY_KEY" ] && echo " (set)" || echo " (empty: put the key there if the repository is private)")
  State:           $STATE_DIR (keep it: upgrades and destroy use it)
MSG
}

cmd_install() {
    build_wheel
    write_tfvars
    preflight_terraform
    "preflight_$CLOUD"
    tf_cli_config
    say "Planning the $CLOUD install ($STATE_DIR)"
    tf_init
    run "${TF[@]}" plan -input=false "-var-file=$TFVARS" "-out=$STATE_DIR/tfplan"
    confirm "Apply this plan? Type 'yes':" yes
    say "Applying"
    run "${TF[@]}" apply -input=false "$STATE_DIR/tfplan"
    post_apply
    summary
}

cmd_plan() {
    build_wheel
    write_tfvars
    preflight_terraform
    "preflight_$CLOUD"
    tf_cli_config
    tf_init
    run "${TF[@]}" plan -input=false "-var-file=$TFVARS"
}

cmd_destroy() {
    [ -s "$TFVARS" ] || [ "$DRY_RUN" = 1 ] ||
        die "no $CLOUD install named '$NAME' in $STATE_DIR: pass --state-dir or --name of the install to destroy"
    write_tfvars
    preflight_terraform
    "preflight_$CLOUD"
    tf_cli_config
    confirm "This deletes the $CLOUD install '$NAME' with its bucket, warehouse and secrets. Type the install name to go on:" "$NAME"
    tf_init
    if [ "$(tfvar protect_data)" != false ]; then
        say "Lifting deletion protection on the bucket and warehouse"
        run "${TF[@]}" apply -input=false -auto-approve "-var-file=$TFVARS" -var protect_data=false
    fi
    say "Destroying"
    run "${TF[@]}" destroy -input=false -auto-approve "-var-file=$TFVARS" -var protect_data=false
    [ "$DRY_RUN" = 1 ] || say "Destroyed. The tfvars stay in $TFVARS; delete $STATE_DIR when you no longer need them."
}

if [ "$DRY_RUN" = 1 ]; then
    echo "# headrace install-cloud: $ACTION $CLOUD (dry run: nothing is checked, written or changed)"
fi
"cmd_$ACTION"
