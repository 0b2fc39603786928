# quickstart prints the counter, the gauge and latency quantiles of 1..100 ms x 10.
source "$(dirname "$0")/lib.sh"
"$1" >"$out" 2>"$err" || fail "exit code $?"
expect_line '^requests 1000, queue depth 3$'
line=$(grep -E '^latency p50 ' "$out") || fail "no latency line"
read -r p50 p99 max < <(echo "$line" | awk '{ print $3, $6, $9 }')
near "$p50" 50 0.01 || fail "p50 $p50 is not 50 ms within 1%"
near "$p99" 99 0.01 || fail "p99 $p99 is not 99 ms within 1%"
[ "$max" = "100" ] || fail "max $max is not exactly 100 ms"
echo "quickstart: ok ($line)"
