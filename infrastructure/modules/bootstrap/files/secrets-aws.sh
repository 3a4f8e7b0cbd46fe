# shellcheck shell=bash
# Secret helpers for AWS Secrets Manager, with the instance role's credentials (boto3 from apt).
# read_secret NAME   prints the current value; fails when the secret has no value yet.
# write_secret NAME  stores stdin as the new value.

read_secret() {
    python3 - "$1" <<'PY'
import sys, boto3
client = boto3.client("secretsmanager")
try:
    print(client.get_secret_value(SecretId=sys.argv[1])["SecretString"], end="")
except client.exceptions.ResourceNotFoundException:
    sys.exit(3)
PY
}

write_secret() {
    python3 - "$1" <<'PY'
import sys, boto3
boto3.client("secretsmanager").put_secret_value(SecretId=sys.argv[1], SecretString=sys.stdin.read())
PY
}
