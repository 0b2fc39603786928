# metron-demo on a pseudo-terminal (script(1)): the live view is chosen by itself, hides
# the cursor, draws the table with quantile columns and sparklines, redraws in place
# (cursor up, clear line), shows the cursor again and prints the summary.
source "$(dirname "$0")/lib.sh"
command -v script >/dev/null || fail "script(1) (bsdutils) is not installed"
COLUMNS=120 LINES=50 script -qefc "stty cols 120 rows 50; '$1' --duration 2 --threads 1 --listen 127.0.0.1:0" /dev/null >"$out" 2>"$err" \
  || fail "exit code $?"
grep -q $'\x1b\\[?25l' "$out" || fail "the cursor is not hidden"
grep -q $'\x1b\\[?25h' "$out" || fail "the cursor is not shown again"
grep -Eq $'\r\x1b\\[[0-9]+A' "$out" || fail "no in-place redraw (cursor up)"
grep -q $'\x1b\\[K' "$out" || fail "lines are not cleared"
expect_line 'metron-demo — tick [0-9]+ · frame every'
expect_line '^HISTOGRAMS +rate/s +p50 +p90 +p99 +max +p99, last 40'
expect_line '^  route="GET /api/search" +[0-9.]+[kMG]? +[0-9.]+ms +[0-9.]+ms +[0-9.]+ms +[0-9.]+m?s +[▁▂▃▄▅▆▇█]+'
expect_line 'metron: [0-9.]+[kMG]? records/s on 1 thread · [0-9.]+ ns each · [0-9]+% of one core'
expect_line '^metron-demo summary: '
echo "demo live view: ok"
