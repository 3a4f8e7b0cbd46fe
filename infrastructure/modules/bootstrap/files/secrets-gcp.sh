# shellcheck shell=bash
# Cloud helpers for GCP, with the VM service account's token from the metadata server.
# read_secret NAME         prints the latest version of a Secret Manager secret; fails when it has none yet.
# write_secret NAME        adds stdin as a new version.
# fetch_object URL FILE    downloads gs://BUCKET/OBJECT to FILE (Cloud Storage JSON API).

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

fetch_object() {
    local path="${1#gs://}" object
    object="$(jq -rn --arg o "${path#*/}" '$o|@uri')"
    curl -fsS -o "$2" -H "Authorization: Bearer $(_gcp_token)" \
        "https://storage.googleapis.com/storage/v1/b/${path%%/*}/o/$object?alt=media"
}
