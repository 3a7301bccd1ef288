#!/usr/bin/env bash
# The package as a user gets it: `npm pack`, the tarball installed into an empty
# directory outside the checkout, and there `stepwise --version`, `init`,
# `validate`, `run`, `send`, the scaffold's own test, and a TypeScript
# definition with its own tools module (run, and type-checked against the
# installed package's types). No API key: the CLI starts its emulator.
#
# Each check counts as one test. The last line is `pack-test: N passed, N failed`;
# pack-results.txt holds `N passed, N failed` for .ci/run, which adds it to the
# suite's line. The exit code is 1 if any check failed.
# Installing compiles better-sqlite3 from source (about a minute); the npm cache
# `npm ci` filled is reused (--prefer-offline), so only the registry is needed.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
rm -f pack-results.txt

passed=0
failed=0
out=""
# check <name> <command…>: runs the command, keeps its output in $out, counts it.
check() {
  local name=$1
  shift
  if out=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok   $name"
    return 0
  fi
  failed=$((failed + 1))
  echo "FAIL $name"
  printf '%s\n' "$out" | tail -n 40 | sed 's/^/     /'
  return 1
}
finish() {
  local line="$passed passed, $failed failed"
  echo "$line" > "$root/pack-results.txt"
  echo "pack-test: $line"
  [ "$failed" -eq 0 ]
  exit $?
}
# The rest of the checks cannot run: count what is left as failed.
give_up() {
  failed=$((failed + $1))
  finish
}

work=$(mktemp -d "${TMPDIR:-/tmp}/stepwise-pack-XXXXXX")
trap 'rm -rf "$work"' EXIT
export NO_COLOR=1
unset ANTHROPIC_API_KEY ANTHROPIC_BASE_URL

# The tarball is made from dist/: build it first when src/ is newer (npm ci's
# `prepare` built it; the test run rebuilds it when stale).
if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -type f -print -quit)" ]; then
  npm run build >/dev/null || give_up 11
fi
version=$(node -p 'require("./package.json").version')
name=$(node -p 'require("./package.json").name')

check "npm pack" npm pack --ignore-scripts --silent --pack-destination "$work" || give_up 10
tarball="$work/$(printf '%s\n' "$out" | tail -n 1)"

app="$work/app"
mkdir -p "$app"
cd "$app" || give_up 10
# What a user's project holds before installing: an ESM package that approves
# the one install script Stepwise needs (npm 11 asks for the approval).
cat > package.json <<'EOF'
{
  "name": "app",
  "private": true,
  "type": "module",
  "allowScripts": { "better-sqlite3": true }
}
EOF
check "npm install <tarball>" npm install --prefer-offline --no-audit --no-fund "$tarball" || give_up 9

check "npx stepwise --version" bash -c "[ \"\$(npx --no-install stepwise --version)\" = '$version' ]"
check "stepwise init flows" npx --no-install stepwise init flows
check "stepwise validate" npx --no-install stepwise validate flows/workflow.yaml

run_id=""
if check "stepwise run (waits for approval)" bash -c '
  set -o pipefail
  npx --no-install stepwise run flows/workflow.yaml --input @flows/workflow.input.json --json | tail -n 1 |
    node -e "let s=\"\";process.stdin.on(\"data\",(d)=>(s+=d)).on(\"end\",()=>{const r=JSON.parse(s);if(r.status!==\"waiting\")throw new Error(\"status \"+r.status);console.log(r.runId)})"'; then
  run_id=$(printf '%s\n' "$out" | tail -n 1)
fi
check "stepwise send APPROVE (done)" bash -c "
  set -o pipefail
  npx --no-install stepwise send '$run_id' APPROVE --data '{\"by\":\"ci\"}' --json | tail -n 1 |
    node -e 'let s=\"\";process.stdin.on(\"data\",(d)=>(s+=d)).on(\"end\",()=>{const r=JSON.parse(s);if(r.status!==\"done\"||r.output.sent!==true)throw new Error(s)})'"
check "the scaffold's test (tsx --test)" npx --no-install tsx --test flows/workflow.test.mts

# A TypeScript definition with its own tools module, as a user writes them.
mkdir -p ts
cat > ts/tools.ts <<'EOF'
import { z } from 'zod';
import { defineTool } from 'stepwise-engine';

export const recordGreeting = defineTool({
  name: 'record_greeting',
  description: 'Record a greeting for a person.',
  input: z.object({ greeting: z.string().min(1) }),
  run: ({ greeting }) => ({ greeting }),
});

export const shout = defineTool({
  name: 'shout',
  description: 'Upper-case a text.',
  input: z.object({ text: z.string() }),
  run: ({ text }) => ({ text: text.toUpperCase() }),
});
EOF
cat > ts/greet.ts <<'EOF'
import { defineWorkflow } from 'stepwise-engine';
import { recordGreeting, shout } from './tools.js';

export default defineWorkflow({
  id: 'greet',
  tools: [recordGreeting, shout],
  input: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  steps: {
    greet: {
      claude: { tool: 'record_greeting', prompt: 'Greet the person by name.', context: { name: '{% $input.name %}' } },
      next: 'loud',
    },
    loud: { tool: 'shout', with: { text: '{% $input.name %}' }, next: 'done' },
    done: { final: true, output: { name: '{% $steps.loud.output.text %}', greeting: '{% $steps.greet.output.greeting %}' } },
  },
});
EOF
# The PostgreSQL store's options name pg's own types (a pool client): they must reach the user with the package.
cat > ts/store.ts <<'EOF'
import { createPostgresStore } from 'stepwise-engine/postgres';

export const store = createPostgresStore({
  url: 'postgres://postgres@127.0.0.1:5432/app',
  onConnect: (client) => {
    // @ts-expect-error pg's PoolClient has no such method (no error if pg's types did not reach the user)
    client.noSuchMethod();
    void client.query('SELECT 1');
  },
});
EOF
cat > tsconfig.json <<EOF
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
    "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true, "noEmit": true, "skipLibCheck": true,
    "typeRoots": ["$root/node_modules/@types"], "types": ["node"]
  },
  "include": ["ts", "flows"]
}
EOF
check "stepwise validate ts/greet.ts" npx --no-install stepwise validate ts/greet.ts
check "stepwise run ts/greet.ts (done)" bash -c '
  set -o pipefail
  npx --no-install stepwise run ts/greet.ts --input "{\"name\":\"ada\"}" --json | tail -n 1 |
    node -e "let s=\"\";process.stdin.on(\"data\",(d)=>(s+=d)).on(\"end\",()=>{const r=JSON.parse(s);if(r.status!==\"done\"||r.output.name!==\"ADA\"||!r.output.greeting)throw new Error(s)})"'
check "tsc: the definitions and the scaffold type-check against the installed $name" "$root/node_modules/.bin/tsc" -p tsconfig.json

finish
