# shellcheck shell=bash
# Cloud helpers for AWS, with the instance role's credentials (boto3 from apt).
# read_secret NAME         prints the current value of a Secrets Manager secret; fails when it has none yet.
# write_secret NAME        stores stdin as the new value.
# fetch_object URL FILE    downloads s3://BUCKET/KEY to FILE.

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

fetch_object() {
    python3 - "$1" "$2" <<'PY'
import sys, boto3
bucket, _, key = sys.argv[1].removeprefix("s3://").partition("/")
boto3.client("s3").download_file(bucket, key, sys.argv[2])
PY
}
