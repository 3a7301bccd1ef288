#!/usr/bin/env bash
# Renders the diagrams of the example definitions into docs/diagrams/ (run after `npm run build`).
set -euo pipefail
cd "$(dirname "$0")/.."
for def in definitions/invoice-approval.yaml definitions/invoice-parallel-check.yaml definitions/invoice-line-items.yaml definitions/invoice-intake.yaml definitions/support-triage.yaml definitions/lead-enrichment.ts; do
  name=$(basename "${def%.*}")
  node dist/cli/main.js diagram "$def" --format mermaid -o "docs/diagrams/$name.mmd"
  node dist/cli/main.js diagram "$def" --format svg -o "docs/diagrams/$name.svg"
done
