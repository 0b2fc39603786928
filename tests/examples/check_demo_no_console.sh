# metron-demo --no-console for 2 s: the Prometheus address, periodic lines with rates
# and percentiles, and the final summary with a nonzero request count; no escape codes.
source "$(dirname "$0")/lib.sh"
"$1" --duration 2 --threads 2 --listen 127.0.0.1:0 --no-console >"$out" 2>"$err" || fail "exit code $?"
expect_line '^Prometheus metrics: http://127\.0\.0\.1:[1-9][0-9]*/metrics$'
expect_line '^metron-demo: 2 worker threads, 4 routes, monitor tick 100 ms, running for 2 s'
num='[0-9.]+[kMG]?'
dur='[0-9.]+(ns|µs|ms|s)'
expect_line "^\[ *[0-9.]+s\] requests $num/s  errors [0-9.]+%  metron records $num/s$"
for route in 'GET /api/users/:id' 'GET /api/search' 'POST /api/orders' 'GET /healthz'; do
  expect_line "^\[ *[0-9.]+s\]   $route +$num/s  p50 $dur +p90 $dur +p99 $dur +max $dur$"
  expect_line "^  $route +$num +$dur +$dur +$dur +$dur$" # the summary row
done
expect_line '^metron-demo summary: [0-9.]+ s, 2 worker threads$'
requests=$(sed -nE 's/^  requests  ([0-9]+) total .*/\1/p' "$out")
[ -n "$requests" ] && [ "$requests" -gt 0 ] || fail "request count '$requests' is not positive"
expect_line "^  metron    $num records \($num records/s across all threads\)$"
expect_line '^  monitor   [0-9]+ ticks'
expect_no_line $'\x1b'
echo "demo --no-console: ok ($requests requests)"
