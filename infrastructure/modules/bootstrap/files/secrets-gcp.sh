# shellcheck shell=bash
# Secret helpers for GCP Secret Manager, with the VM service account's token from the metadata server.
# read_secret NAME   prints the latest version; fails when the secret has no version yet.
# write_secret NAME  adds stdin as a new version.

_gcp_token() {
    curl -fsS -H 'Metadata-Flavor: Google' \
        'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token' |
        jq -r .access_token
}

read_secret() {
    curl -fsS -H "Authorization: Bearer $(_gcp_token)" \
        "https://secretmanager.googleapis.com/v1/projects/$GCP_PROJECT/secrets/$1/versions/latest:access" |
        jq -r .payload.data | base64 -d
}

write_secret() {
    local data
    data="$(base64 -w0)"
    curl -fsS -X POST -H "Authorization: Bearer $(_gcp_token)" -H 'Content-Type: application/json' \
        -d "{\"payload\": {\"data\": \"$data\"}}" \
        "https://secretmanager.googleapis.com/v1/projects/$GCP_PROJECT/secrets/$1:addVersion" >/dev/null
}
