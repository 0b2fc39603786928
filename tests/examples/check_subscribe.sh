# subscribe: the fast requests are reported ok, then exactly one ALERT after the slow burst.
source "$(dirname "$0")/lib.sh"
"$1" >"$out" 2>"$err" || fail "exit code $?"
expect_line '^tick [0-9]+: [0-9]+ requests, p99 [0-9.]+ ms \(ok\)$'
expect_count '^ALERT' 1
expect_line '^ALERT: p99 250\.0 ms is over the 100 ms threshold$'
expect_line '^done: the alert fired after the slow burst$'
# order: every ok line before the burst, the alert after it
burst=$(grep -n '^recording a burst' "$out" | cut -d: -f1)
alert=$(grep -n '^ALERT' "$out" | cut -d: -f1)
last_ok=$(grep -n '(ok)$' "$out" | tail -1 | cut -d: -f1)
[ -n "$burst" ] && [ "$last_ok" -lt "$burst" ] && [ "$burst" -lt "$alert" ] || fail "lines out of order"
# the fast ticks together saw exactly the 1000 fast requests
total=$(awk '/\(ok\)$/ { n += $3 } END { print n }' "$out")
[ "$total" -eq 1000 ] || fail "ok ticks saw $total requests, expected 1000"
echo "subscribe: ok"
