#!/bin/sh
# A container component in plain shell: as an extractor it writes the table `greetings`, as a
# transformation it reads its input `greetings` and writes `shouted`. The contract it follows
# (docs/components.md): /data/config.json, secrets in the environment, tables as CSV +
# schema.json under /data/in/tables and /data/out/tables, logs on stdout, exit 2 for a
# configuration error.
set -eu
DATA=/data
OUT="$DATA/out/tables"

# config.json is written one key per line: a flat key is one sed away (use jq or a real language
# for anything nested)
setting() { sed -n "s/^  \"$1\": *\"\\([^\"]*\\)\".*/\\1/p" "$DATA/config.json"; }

# both tables have these columns; without a "parts" list, every part-*.csv(.gz) of the folder is read
schema() {
  echo '{"columns": [{"name": "id", "type": "integer"}, {"name": "greeting", "type": "string"},'
  echo '             {"name": "name", "type": "string"}]}'
}

mode=$(setting mode)
case "$mode" in
extract)
  greeting=$(setting greeting)
  names=$(setting names)
  if [ -z "$greeting" ] || [ -z "$names" ]; then
    echo "config: greeting and names are required (e.g. {greeting: hello, names: ada grace})"
    exit 2 # a configuration error: Headrace does not retry
  fi
  mkdir -p "$OUT/greetings"
  schema >"$OUT/greetings/schema.json"
  {
    echo "id,greeting,name"
    id=0
    for name in $names; do
      id=$((id + 1))
      echo "$id,$greeting,$name"
    done
  } >"$OUT/greetings/part-00000.csv"
  echo "wrote $id greeting(s)"
  ;;
transform)
  in="$DATA/in/tables/greetings"
  [ -f "$in/schema.json" ] || { echo "input greetings is missing: declare it in inputs"; exit 2; }
  mkdir -p "$OUT/shouted"
  schema >"$OUT/shouted/schema.json" # the same columns as its input
  {
    echo "id,greeting,name"
    for part in "$in"/part-*.csv.gz; do
      gzip -dc "$part" | tail -n +2 # each part starts with the header
    done | awk -F, 'BEGIN { OFS = "," } { $2 = toupper($2) "!"; print }'
  } >"$OUT/shouted/part-00000.csv"
  echo "shouted $(($(wc -l <"$OUT/shouted/part-00000.csv") - 1)) greeting(s)"
  ;;
*)
  echo "config: mode must be extract or transform, not '$mode'"
  exit 2
  ;;
esac
