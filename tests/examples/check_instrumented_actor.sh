# instrumented_actor: metron's per-actor message count equals the messages sent, and
# the handling-time quantiles are ordered.
source "$(dirname "$0")/lib.sh"
"$1" >"$out" 2>"$err" || fail "exit code $?"
expect_line '^sent 1000 messages, got 1000 answers$'
counted=$(sed -nE 's/^metron counted ([0-9]+) messages handled by "squarer"$/\1/p' "$out")
[ "$counted" = "1000" ] || fail "metron counted '$counted' messages, expected 1000"
line=$(grep -E '^handling time: ' "$out") || fail "no handling time line"
echo "$line" | awk '{ gsub(",", ""); p50 = $4; p90 = $7; p99 = $10; max = $13
  exit !(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max) }' || fail "quantiles not ordered: $line"
echo "instrumented_actor: ok"
