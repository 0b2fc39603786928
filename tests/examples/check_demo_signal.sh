# metron-demo --duration 0 runs until a signal ($2: INT or TERM); meanwhile its
# Prometheus endpoint serves the demo's series; after the signal it prints the summary
# and exits 0. stdout is a file, so the plain mode is chosen without --no-console.
source "$(dirname "$0")/lib.sh"
"$1" --duration 0 --threads 1 --listen 127.0.0.1:0 >"$out" 2>"$err" &
pid=$!
wait_for_line '^\[ *[0-9.]+s\] requests ' 30
url=$(sed -nE 's/^Prometheus metrics: (http:[^ ]+)$/\1/p' "$out")
body=$(curl -fsS --max-time 10 "$url") || { kill -KILL $pid; fail "curl $url failed"; }
grep -Eq '^demo_requests_total\{route="GET /api/search"\} [1-9][0-9]*$' <<<"$body" || { kill -KILL $pid; fail "no demo_requests_total in the scrape"; }
kill -"$2" $pid
for _ in $(seq 1 200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
if kill -0 $pid 2>/dev/null; then kill -KILL $pid; fail "still running 20 s after SIG$2"; fi
wait $pid; rc=$?
[ $rc -eq 0 ] || fail "exit code $rc after SIG$2"
case $2 in INT) how='Ctrl-C' ;; *) how='SIGTERM' ;; esac
expect_line "^metron-demo summary: [0-9.]+ s, 1 worker thread, stopped by $how$"
requests=$(sed -nE 's/^  requests  ([0-9]+) total .*/\1/p' "$out")
[ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "request count '$requests' is not positive"
expect_line '^  GET /api/search '
expect_line '^  monitor   [0-9]+ ticks, p99 tick .*; Prometheus scrapes served: [1-9]'
expect_no_line $'\x1b'
echo "demo SIG$2: ok"
