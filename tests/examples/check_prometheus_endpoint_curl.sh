# prometheus_endpoint --serve: a real HTTP client (curl) scrapes it while it serves.
source "$(dirname "$0")/lib.sh"
command -v curl >/dev/null || fail "curl is not installed (scripts/install-deps.sh installs it)"
"$1" --serve 20 >"$out" 2>"$err" &
pid=$!
wait_for_line '^serving for ' 20
url=$(sed -nE 's/^serving (http:[^ ]+)$/\1/p' "$out")
body=$(curl -fsS --max-time 10 "$url") || { kill $pid; fail "curl $url failed"; }
kill $pid; wait $pid 2>/dev/null
grep -q '^# TYPE shop_orders_total counter$' <<<"$body" || fail "no TYPE line for shop_orders_total in: $body"
grep -q '^shop_orders_total{payment="card"} 42$' <<<"$body" || fail "no shop_orders_total sample in: $body"
grep -q '^shop_checkout_duration_seconds_bucket{le="+Inf"} 100$' <<<"$body" || fail "no +Inf bucket in: $body"
echo "prometheus_endpoint (curl): ok"
