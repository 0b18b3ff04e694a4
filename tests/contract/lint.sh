#!/usr/bin/env bash
# Lint openapi/openapi.yaml with Redocly's CLI, pinned by openapi/package-lock.json (scripts/setup
# installs it). Any problem the linter reports, error or warning, fails the test.
set -uo pipefail
cd "$1" || exit 1
if [ ! -x node_modules/.bin/redocly ]; then
    echo "lint: openapi/node_modules/.bin/redocly is missing; run scripts/setup" >&2
    exit 1
fi
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1
out=$(node_modules/.bin/redocly lint --format=stylish openapi.yaml 2>&1)
status=$?
# drop the Node.js version banner, keep the findings
printf '%s\n' "$out" | grep -v '[║╔╚]'
problems=$(printf '%s\n' "$out" | grep -cE '^ +[0-9]+:[0-9]+ +(error|warning)')
if [ "$status" -ne 0 ] || [ "$problems" -ne 0 ]; then
    echo "lint: $problems problems (exit status $status)" >&2
    exit 1
fi
echo "lint: openapi.yaml has no errors and no warnings"
