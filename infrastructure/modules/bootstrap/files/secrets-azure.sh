# shellcheck shell=bash
# Cloud helpers for Azure, with the VM's user-assigned managed identity (IMDS token).
# read_secret NAME         prints the current value of a Key Vault secret; fails when it does not exist yet.
# write_secret NAME        stores stdin as a new version.
# fetch_object URL FILE    downloads https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB to FILE.

_azure_token() {  # _azure_token [RESOURCE]: Key Vault by default
    curl -fsS -H 'Metadata: true' \
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${1:-https%3A%2F%2Fvault.azure.net}&client_id=$AZURE_CLIENT_ID" |
        jq -r .access_token
}

read_secret() {
    curl -fsS -H "Authorization: Bearer $(_azure_token)" \
        "https://$AZURE_KEY_VAULT.vault.azure.net/secrets/$1?api-version=7.4" | jq -r .value
}

write_secret() {
    jq -Rs '{value: .}' |
        curl -fsS -X PUT -H "Authorization: Bearer $(_azure_token)" -H 'Content-Type: application/json' \
            -d @- "https://$AZURE_KEY_VAULT.vault.azure.net/secrets/$1?api-version=7.4" >/dev/null
}

fetch_object() {
    curl -fsS -o "$2" -H "Authorization: Bearer $(_azure_token https%3A%2F%2Fstorage.azure.com%2F)" \
        -H 'x-ms-version: 2021-08-06' "$1"
}
