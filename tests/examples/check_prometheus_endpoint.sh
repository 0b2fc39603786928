# prometheus_endpoint fetches its own /metrics; the known series are in it.
source "$(dirname "$0")/lib.sh"
"$1" >"$out" 2>"$err" || fail "exit code $?"
expect_line '^serving http://127\.0\.0\.1:[1-9][0-9]*/metrics$'
expect_line '^  shop_orders_total\{payment="card"\} 42$'
expect_line '^  shop_open_carts 7$'
expect_line '^  shop_checkout_duration_seconds_count 100$'
expect_line '^  shop_checkout_duration_seconds_sum 50\.5$'
expect_line '^  shop_checkout_duration_seconds_quantiles\{quantile="0\.99"\} '
echo "prometheus_endpoint: ok"
