#!/bin/sh
# What it does is chosen by config.json's "mode" (tests/components/test_container_runs.py).
set -eu
T=/data/out/tables
mode=$(sed -n 's/^  "mode": *"\([^"]*\)".*/\1/p' /data/config.json)
echo "attempt: $mode"
good() {
  mkdir -p "$T/$1"
  echo '{"columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"}]}' >"$T/$1/schema.json"
  printf 'id,name\n1,a\n2,b\n' >"$T/$1/part-00000.csv"
}
case "$mode" in
undeclared) good first; good items; good extra ;;
lying_schema)
  good first
  good items
  echo '{"columns": [{"name": "id", "type": "integer"}, {"name": "name", "type": "string"},
    {"name": "amount", "type": "decimal(12,2)"}]}' >"$T/items/schema.json"
  ;;
escape)
  good first
  good items
  rm "$T/items/part-00000.csv"
  ln -s /etc/passwd "$T/items/part-00000.csv"
  ;;
config_error)
  echo "config: endpoint is required"
  exit 2
  ;;
sleep)
  echo "started, sleeping"
  sleep 600
  ;;
fails)
  echo "something broke at line 42"
  exit 3
  ;;
secret)
  mkdir -p "$T/tokens"
  echo '{"columns": [{"name": "id", "type": "integer"}, {"name": "token_length", "type": "integer"}]}' >"$T/tokens/schema.json"
  printf 'id,token_length\n1,%s\n' "${#API_TOKEN}" >"$T/tokens/part-00000.csv"
  echo "calling the API with token $API_TOKEN"
  ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
