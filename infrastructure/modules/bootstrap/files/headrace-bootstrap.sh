#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Headrace VM bootstrap, run by cloud-init at first boot and by systemd units afterwards.
#
#   headrace-bootstrap airflow          install Airflow 3, PostgreSQL, Headrace, nginx; start services
#   headrace-bootstrap worker           install Docker; authorize Airflow's key (Docker over SSH only)
#   headrace-bootstrap refresh-secrets  rewrite the Airflow password file from the secret store
#   headrace-bootstrap clone-project    clone (or fetch) the project repository with the deploy key
#   headrace-bootstrap worker-keys      worker: authorize Airflow's key, install the host key Airflow knows
#   headrace-bootstrap worker-host-key  airflow: known_hosts from the worker's host key (made if missing)
#
# Settings come from /etc/headrace/bootstrap.env (cloud, secret names, the Headrace wheel in the
# install's bucket and its sha256) and /etc/headrace/env (what Airflow and Headrace read;
# HEADRACE_DEPLOYMENT names /etc/headrace/deployment.yaml, this install's warehouse, storage
# and secrets). Every step can run again safely.
set -euo pipefail

set -a  # exported: the secret helpers' python and curl children read them too
# shellcheck source=/dev/null
. /etc/headrace/bootstrap.env
# shellcheck source=/dev/null
. /etc/headrace/env
set +a
# shellcheck source=secrets-aws.sh
. /usr/local/lib/headrace/secrets.sh

VENV="$HEADRACE_HOME/venv"
ARTIFACTS=/var/lib/headrace/artifacts
log() { printf 'headrace-bootstrap: %s\n' "$*" >&2; }

retry() {  # retry N CMD...: run CMD until it succeeds, at most N times, 10 s apart
    local n="$1" i; shift
    for ((i = 1; i <= n; i++)); do
        "$@" && return 0
        log "attempt $i/$n failed: $*"
        sleep 10
    done
    return 1
}

apt_install() {
    export DEBIAN_FRONTEND=noninteractive
    retry 5 apt-get update -q
    retry 5 apt-get install -y -q --no-install-recommends "$@"
}

ensure_user() {
    install -d -m 0755 /var/lib/headrace
    id headrace >/dev/null 2>&1 || useradd --system --home-dir "$HEADRACE_HOME" --shell /bin/bash headrace
    install -d -o headrace -g headrace -m 0750 "$HEADRACE_HOME" "$HEADRACE_HOME/.ssh"
}

# Generated once per VM and kept in /etc/headrace/airflow.env (root:headrace, 0640).
airflow_local_secrets() {
    local f=/etc/headrace/airflow.env
    [ -s "$f" ] && return 0
    local db_password jwt secret_key fernet
    db_password="$(openssl rand -hex 24)"
    jwt="$(openssl rand -hex 32)"
    secret_key="$(openssl rand -hex 32)"
    fernet="$(openssl rand -base64 32 | tr '+/' '-_')"
    umask 027
    cat >"$f" <<ENV
AIRFLOW_DB_PASSWORD=$db_password
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgresql+psycopg2://airflow:$db_password@127.0.0.1:5432/airflow
AIRFLOW__API_AUTH__JWT_SECRET=$jwt
AIRFLOW__API__SECRET_KEY=$secret_key
AIRFLOW__CORE__FERNET_KEY=$fernet
ENV
    chown root:headrace "$f"
}

setup_postgres() {
    # shellcheck source=/dev/null
    . /etc/headrace/airflow.env
    systemctl enable --now postgresql
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='airflow'\"" | grep -q 1 ||
        su postgres -c "psql -c \"CREATE ROLE airflow LOGIN PASSWORD '$AIRFLOW_DB_PASSWORD'\""
    su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='airflow'\"" | grep -q 1 ||
        su postgres -c "createdb -O airflow airflow"
}

# The wheel the installer published to this install's bucket, fetched with the VM's own
# identity (fetch_object, secrets.sh) and installed only if its sha256 is the one Terraform
# recorded: Headrace never comes from a package index by name.
fetch_headrace() {
    local wheel="$ARTIFACTS/${HEADRACE_WHEEL_URL##*/}"
    install -d -m 0755 "$ARTIFACTS"
    rm -f "$wheel.part"
    fetch_object "$HEADRACE_WHEEL_URL" "$wheel.part" || return 1
    if ! printf '%s  %s\n' "$HEADRACE_WHEEL_SHA256" "$wheel.part" | sha256sum --check --status; then
        log "$HEADRACE_WHEEL_URL does not have the sha256 Terraform recorded ($HEADRACE_WHEEL_SHA256): not installing it"
        rm -f "$wheel.part"
        return 1
    fi
    mv "$wheel.part" "$wheel"
}

install_headrace() {
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip uv
    retry 5 fetch_headrace
    # uv resolves Airflow with its providers in seconds where pip backtracks for minutes.
    # shellcheck disable=SC2086  # AIRFLOW_PROVIDERS is a list of requirements
    retry 3 "$VENV/bin/uv" pip install -q --python "$VENV/bin/python" \
        "headrace[$HEADRACE_EXTRAS] @ file://$ARTIFACTS/${HEADRACE_WHEEL_URL##*/}" $AIRFLOW_PROVIDERS psycopg2-binary
    chown -R headrace:headrace "$VENV"
}

as_headrace() {  # run a command as headrace with the Airflow environment loaded
    runuser -u headrace -- env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$HEADRACE_HOME" \
        bash -c 'set -a; . /etc/headrace/env; . /etc/headrace/airflow.env; set +a; exec "$@"' _ "$@"
}

refresh_secrets() {
    local password
    password="$(read_secret "$SECRET_ADMIN_PASSWORD")"
    [ -n "$password" ] || { log "secret $SECRET_ADMIN_PASSWORD is empty"; return 1; }
    umask 077
    jq -n --arg p "$password" '{admin: $p}' >/etc/headrace/airflow-passwords.json.new
    chown headrace:headrace /etc/headrace/airflow-passwords.json.new
    mv /etc/headrace/airflow-passwords.json.new /etc/headrace/airflow-passwords.json
}

# Airflow starts worker containers over SSH: it owns the key pair and publishes the public half.
worker_key_pair() {
    local key="$HEADRACE_HOME/.ssh/worker_ed25519"
    umask 077  # ssh-keygen reads no private key that others may read (not left to refresh_secrets' umask)
    if read_secret "$SECRET_WORKER_SSH_PRIVATE" >"$key.tmp" 2>/dev/null && [ -s "$key.tmp" ]; then
        mv "$key.tmp" "$key"
        ssh-keygen -y -f "$key" >"$key.pub"
    else
        rm -f "$key.tmp" "$key" "$key.pub"
        ssh-keygen -q -t ed25519 -N '' -C "headrace-airflow" -f "$key"
        write_secret "$SECRET_WORKER_SSH_PRIVATE" <"$key"
    fi
    write_secret "$SECRET_WORKER_SSH_PUBLIC" <"$key.pub"
    chown headrace:headrace "$key" "$key.pub"
    chmod 0600 "$key"
}

# The worker's SSH host key is made here as well and kept in the secret store, so the Airflow
# VM knows it before the worker ever starts: the Docker SDK's ssh:// transport refuses a host
# that is not in ~/.ssh/known_hosts. The worker installs it at every boot (install_host_key).
worker_host_key() {
    local dir key
    [ -n "${WORKER_HOST:-}" ] || { log "no worker host: no known_hosts entry"; return 0; }
    umask 077  # ssh-keygen reads no private key that others may read
    dir="$(mktemp -d)"
    key="$dir/host_ed25519"
    if ! { read_secret "$SECRET_WORKER_SSH_HOST_KEY" >"$key" 2>/dev/null && [ -s "$key" ] &&
        ssh-keygen -y -f "$key" >"$key.pub" 2>/dev/null; }; then
        rm -f "$key" "$key.pub"
        ssh-keygen -q -t ed25519 -N '' -C "headrace-worker" -f "$key"
        write_secret "$SECRET_WORKER_SSH_HOST_KEY" <"$key"
    fi
    printf '%s %s\n' "$WORKER_HOST" "$(cut -d' ' -f1,2 "$key.pub")" >"$HEADRACE_HOME/.ssh/known_hosts"
    chmod 0644 "$HEADRACE_HOME/.ssh/known_hosts"
    chown headrace:headrace "$HEADRACE_HOME/.ssh/known_hosts"
    rm -rf "$dir"
}

clone_project() {
    local key="$HEADRACE_HOME/.ssh/deploy_key" repo="$HEADRACE_HOME/repo"
    umask 077
    if read_secret "$SECRET_DEPLOY_KEY" >"$key" 2>/dev/null && [ -s "$key" ]; then
        chown headrace:headrace "$key"
        export GIT_SSH_COMMAND="ssh -i $key -o IdentitiesOnly=yes -o StrictHostKeyChecking=accept-new"
    else
        rm -f "$key"
        log "no deploy key in $SECRET_DEPLOY_KEY: cloning without one (public repository)"
    fi
    if [ -d "$repo/.git" ]; then
        runuser -u headrace -- env GIT_SSH_COMMAND="${GIT_SSH_COMMAND:-ssh}" \
            git -C "$repo" fetch --quiet origin "$HEADRACE_PROJECT_BRANCH"
    else
        runuser -u headrace -- env GIT_SSH_COMMAND="${GIT_SSH_COMMAND:-ssh}" \
            git clone --quiet --branch "$HEADRACE_PROJECT_BRANCH" "$HEADRACE_PROJECT_REPO" "$repo"
    fi
    # Deploy the first version now (validate, compile, switch $HEADRACE_HOME/current) so the
    # project's DAGs appear at once instead of at project_update's next 5-minute tick.
    as_headrace headrace airflow update-project
}

setup_nginx() {
    local cert=/etc/headrace/tls/airflow.crt keyfile=/etc/headrace/tls/airflow.key
    install -d -m 0750 /etc/headrace/tls
    if [ ! -s "$cert" ]; then
        # Self-signed until the owner puts a real certificate at the same paths (see docs).
        openssl req -x509 -newkey rsa:3072 -sha256 -days 825 -nodes \
            -subj "/CN=${HEADRACE_PUBLIC_HOST:-headrace-airflow}" \
            -addext "subjectAltName=${HEADRACE_PUBLIC_SAN:-DNS:headrace-airflow}" \
            -keyout "$keyfile" -out "$cert" 2>/dev/null
        chmod 0600 "$keyfile"
    fi
    install -m 0644 /usr/local/lib/headrace/nginx-airflow.conf /etc/nginx/sites-available/headrace-airflow
    ln -sf /etc/nginx/sites-available/headrace-airflow /etc/nginx/sites-enabled/headrace-airflow
    rm -f /etc/nginx/sites-enabled/default
    nginx -t
    systemctl enable nginx
    systemctl restart nginx
}

cmd_airflow() {
    apt_install python3-venv python3-pip python3-boto3 postgresql nginx git jq curl openssl ca-certificates
    ensure_user
    install -d -o headrace -g headrace -m 0750 "$AIRFLOW_HOME" "$AIRFLOW__CORE__DAGS_FOLDER"
    airflow_local_secrets
    setup_postgres
    install_headrace
    retry 30 refresh_secrets
    retry 30 worker_key_pair
    retry 30 worker_host_key
    as_headrace airflow db migrate
    as_headrace headrace airflow install-dags "$AIRFLOW__CORE__DAGS_FOLDER"
    setup_nginx
    systemctl daemon-reload
    systemctl enable --now headrace-project.service airflow@scheduler.service \
        airflow@dag-processor.service airflow@triggerer.service airflow@api-server.service
    # DAGs start paused; project_update is the one that must run on its own.
    systemctl enable --now headrace-unpause.service
    touch /var/lib/headrace/setup-done-airflow
    log "Airflow is up behind https://${HEADRACE_PUBLIC_HOST:-<this VM>}/"
}

# Airflow's key may do one thing, from the Airflow VM's network only: open a connection to
# the Docker engine (the Docker SDK's ssh:// transport runs `docker system dial-stdio`,
# whatever command it asks for here). No shell, pty, forwarding or agent.
WORKER_KEY_OPTIONS='restrict,command="docker system dial-stdio"'
SSH_HOST_KEY_FILE=/etc/ssh/ssh_host_ed25519_key

worker_keys() {
    local pub
    pub="$(read_secret "$SECRET_WORKER_SSH_PUBLIC")"
    [ -n "$pub" ] || { log "Airflow has not published its key yet"; return 1; }
    umask 077
    printf 'from="%s",%s %s\n' "$AIRFLOW_SOURCE_CIDR" "$WORKER_KEY_OPTIONS" "$pub" \
        >"$HEADRACE_HOME/.ssh/authorized_keys.new"
    chown headrace:headrace "$HEADRACE_HOME/.ssh/authorized_keys.new"
    mv "$HEADRACE_HOME/.ssh/authorized_keys.new" "$HEADRACE_HOME/.ssh/authorized_keys"
    install_host_key
}

# The host key the Airflow VM made and knows (worker_host_key): sshd offers that one only.
install_host_key() {
    local key="$SSH_HOST_KEY_FILE"
    umask 077
    if ! { read_secret "$SECRET_WORKER_SSH_HOST_KEY" >"$key.new" && ssh-keygen -y -f "$key.new" >"$key.pub.new"; }; then
        rm -f "$key.new" "$key.pub.new"
        log "Airflow has not published the worker's host key yet"
        return 1
    fi
    if cmp -s "$key.new" "$key"; then
        rm -f "$key.new" "$key.pub.new"
        return 0
    fi
    chmod 0644 "$key.pub.new"
    mv "$key.pub.new" "$key.pub"
    mv "$key.new" "$key"
    systemctl reload ssh || systemctl reload sshd || true
}

# The worker VM: a Docker engine (the distribution's package) that Airflow reaches over SSH
# as headrace (docker group). Images live on the root disk (worker_disk_size_gb); the first
# task that needs the Headrace worker image builds it here from the Airflow VM.
SSH_STOPPED=()
stop_ssh() {  # stop sshd, socket-activated (Ubuntu 24.04) or not; start_ssh starts what was running
    local u
    for u in ssh.socket ssh.service; do
        if systemctl is-active --quiet "$u"; then
            systemctl stop "$u"
            SSH_STOPPED+=("$u")
        fi
    done
}

start_ssh() {
    local u
    for u in "${SSH_STOPPED[@]}"; do
        systemctl start "$u" || log "could not start $u again"
    done
    SSH_STOPPED=()
}

cmd_worker() {
    # Until the host key the Airflow VM knows is installed (worker-keys below), sshd would show
    # the image's own, which Airflow refuses as a changed key: no SSH at all until then (the
    # first set-up only; connections refused are retried), and sshd back whatever happens.
    stop_ssh
    trap start_ssh EXIT
    apt_install docker.io python3-boto3 jq curl ca-certificates
    ensure_user
    usermod -aG docker headrace
    # Key-only SSH, reachable from the Airflow VM alone (firewall + from= in authorized_keys).
    # The Docker SDK opens one SSH channel per API connection: allow more than the default 10.
    # Only the host key the Airflow VM knows (install_host_key).
    printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\nMaxSessions 32\nHostKey %s\n' \
        "$SSH_HOST_KEY_FILE" >/etc/ssh/sshd_config.d/50-headrace.conf
    systemctl enable --now docker
    systemctl daemon-reload
    # Authorized, host key installed and sshd back before any pull: the first task can reach
    # the engine at once.
    systemctl enable --now headrace-worker-keys.service
    start_ssh
    if [ -n "${HEADRACE_WORKER_IMAGE:-}" ]; then
        retry 5 docker pull "$HEADRACE_WORKER_IMAGE"
    fi
    touch /var/lib/headrace/setup-done-worker
}

case "${1:-}" in
    airflow) cmd_airflow ;;
    worker) cmd_worker ;;
    refresh-secrets) refresh_secrets ;;
    clone-project) clone_project ;;
    worker-keys) worker_keys ;;
    worker-host-key) worker_host_key ;;
    *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
