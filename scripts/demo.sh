#!/usr/bin/env bash
# The demo: run the invoice-approval workflow on the embedded defaults (SQLite
# under .stepwise/, the built-in emulator, no API key), approve it from a second
# process, and show the run's timeline.
set -euo pipefail
cd "$(dirname "$0")/.."
cli="node dist/cli/main.js"
echo "== stepwise run definitions/invoice-approval.yaml"
run=$($cli run definitions/invoice-approval.yaml --input @definitions/invoice-approval.input.json --json | tail -n 1)
id=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).runId)' "$run")
status=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).status)' "$run")
echo "run $id is $status"
if [ "$status" = "waiting" ]; then
  echo "== stepwise send $id APPROVE (a second process)"
  $cli send "$id" APPROVE --data '{"by":"cfo@example.com"}'
fi
echo "== stepwise show $id"
$cli show "$id"
