# metron-demo --remote-write into a real Prometheus 2.42 (remote-write receiver on, no
# scraping), while this script scrapes the demo's /metrics in OpenMetrics: the pushed
# demo_records_total is queryable under job="metron-demo" and equals no more than the
# demo's own total; the OpenMetrics exposition ends in "# EOF" and carries a trace-id
# exemplar of a slow request. Prometheus is stopped by PID and its dir removed.
source "$(dirname "$0")/lib.sh"
demo=$1
dir=$(mktemp -d)
prom_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  rm -rf "$dir" "$out" "$err"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
printf 'global:\n  scrape_interval: 1s\n' >"$dir/p.yml"
/usr/bin/prometheus --config.file="$dir/p.yml" --storage.tsdb.path="$dir/data" \
  --web.listen-address="127.0.0.1:$port" --web.enable-remote-write-receiver --log.level=warn \
  >"$dir/log" 2>&1 &
prom_pid=$!
deadline=$((SECONDS + 30))
until curl -fs "http://127.0.0.1:$port/-/ready" >/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "Prometheus not ready in 30 s: $(cat "$dir/log")"
  sleep 0.2
done

"$demo" --duration 8 --threads 2 --listen 127.0.0.1:0 --no-console \
  --remote-write "http://127.0.0.1:$port/api/v1/write" >"$out" 2>"$err" &
demo_pid=$!
wait_for_line '^Prometheus metrics: http://127\.0\.0\.1:[0-9]+/metrics$' 30
metrics=$(sed -nE 's|^Prometheus metrics: (http://[^ ]+)$|\1|p' "$out")
sleep 2 # a few slow requests (>= 250 ms) have been recorded with an exemplar by now
om=$(curl -fsS --max-time 10 -H 'Accept: application/openmetrics-text; version=1.0.0' "$metrics") \
  || fail "scraping $metrics in OpenMetrics failed"
[ "$(printf '%s\n' "$om" | tail -1)" = "# EOF" ] || fail "the OpenMetrics answer does not end in # EOF"
printf '%s\n' "$om" | grep -Eq '^demo_request_duration_seconds_bucket\{.*\} [0-9]+ # \{trace_id="[0-9a-f]{32}"\} [0-9.e+-]+' \
  || fail "no trace-id exemplar on a demo_request_duration_seconds bucket"
wait "$demo_pid" || fail "the demo exited with $?"
expect_line '^  remote-write to http://127\.0\.0\.1:[0-9]+/api/v1/write: [1-9][0-9]* samples in [1-9][0-9]* requests sent, 0 requests dropped$'
answer=$(curl -fsS "http://127.0.0.1:$port/api/v1/query?query=demo_records_total%7Bjob%3D%22metron-demo%22%7D")
pushed=$(printf '%s' "$answer" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
[ -n "$pushed" ] && [ "$pushed" -gt 0 ] || fail "demo_records_total{job=\"metron-demo\"} not in Prometheus: $answer"
echo "demo --remote-write: ok (Prometheus holds demo_records_total = $pushed; exemplar on /metrics)"
