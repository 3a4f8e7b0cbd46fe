# shellcheck shell=bash
# Secret helpers for Azure Key Vault, with the VM's user-assigned managed identity (IMDS token).
# read_secret NAME   prints the current value; fails when the secret does not exist yet.
# write_secret NAME  stores stdin as a new version.

_azure_token() {
    curl -fsS -H 'Metadata: true' \
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https%3A%2F%2Fvault.azure.net&client_id=$AZURE_CLIENT_ID" |
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
