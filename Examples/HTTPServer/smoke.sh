#!/usr/bin/env bash
# Smoke test of the HTTP server example: builds it, starts it on a free loopback port with a temporary
# storage directory, replays a few of the spec's requests with curl and checks the status codes.
# Exits non-zero on any failure; always stops the server it started.
set -euo pipefail
cd "$(dirname "$0")/../.."

swift build --package-path Examples/HTTPServer
binary="$(swift build --package-path Examples/HTTPServer --show-bin-path)/pulpkit-http-server"

storage="$(mktemp -d)"
log="$storage/server.log"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
base="http://127.0.0.1:$port/pulp/api/v2"

"$binary" --storage "$storage/db" --port "$port" >"$log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$storage"
}
trap cleanup EXIT

# Wait (at most 30 s) until the server answers.
for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$base/tasks/"; then break; fi
    if ! kill -0 "$server" 2>/dev/null; then
        echo "server exited early:"; cat "$log"; exit 1
    fi
    sleep 0.1
done

passed=0
failed=0
# check NAME EXPECTED_STATUS CURL_ARGS...
check() {
    local name="$1" expected="$2"
    shift 2
    local status
    status="$(curl -s -o "$storage/body" -w '%{http_code}' --max-time 10 "$@" || true)"
    if [ "$status" = "$expected" ]; then
        passed=$((passed + 1))
        echo "ok   $name: $status"
    else
        failed=$((failed + 1))
        echo "FAIL $name: expected $expected, got $status: $(head -c 500 "$storage/body" 2>/dev/null)"
    fi
}

feed="file://$PWD/Examples/Data/files/"
json=(-H 'Content-Type: application/json')
check "create repository" 201 "${json[@]}" -X POST "$base/repositories/" \
    -d "{\"id\": \"smoke\", \"display_name\": \"Smoke\", \"importer_type_id\": \"iso_importer\", \"importer_config\": {\"feed\": \"$feed\"}}"
check "create schedule" 201 "${json[@]}" -X POST "$base/repositories/smoke/importers/iso_importer/schedules/sync/" \
    -d '{"override_config": {}, "schedule": "00:00:00Z/P1DT", "failure_threshold": 3}'
check "list schedules" 200 "$base/repositories/smoke/importers/iso_importer/schedules/sync/"
check "sync (202)" 202 "${json[@]}" -X POST "$base/repositories/smoke/actions/sync/" \
    -d '{"override_config": {"verify_checksum": false, "verify_size": false}}'
check "list tasks" 200 "$base/tasks/"
check "sync history" 200 "$base/repositories/smoke/history/sync/"
check "unknown repository" 404 "$base/repositories/nope/"
check "path outside the API" 404 "http://127.0.0.1:$port/elsewhere"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
