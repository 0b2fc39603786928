# Helpers of the example checkers (sourced). Each failure prints what was expected
# and the program's output, then exits 1.
set -u
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

fail() {
  echo "FAIL: $*"
  echo "---- stdout ----"; cat "$out"
  echo "---- stderr ----"; cat "$err"
  exit 1
}

# expect_line REGEX: some line of stdout matches the extended regex
expect_line() { grep -Eq -- "$1" "$out" || fail "no line matches /$1/"; }

# expect_no_line REGEX: no line of stdout matches
expect_no_line() { ! grep -Eq -- "$1" "$out" || fail "a line matches /$1/: $(grep -E -- "$1" "$out" | head -1)"; }

# expect_count REGEX N: exactly N lines of stdout match
expect_count() {
  local n
  n=$(grep -Ec -- "$1" "$out")
  [ "$n" -eq "$2" ] || fail "$n lines match /$1/, expected $2"
}

# near ACTUAL EXPECTED REL: |actual - expected| <= rel * expected
near() { awk -v a="$1" -v e="$2" -v r="$3" 'BEGIN { d = a - e; if (d < 0) d = -d; exit !(d <= r * e) }'; }

# wait_for_line REGEX SECONDS: polls stdout (of a background program) until a line matches
wait_for_line() {
  local deadline=$((SECONDS + $2))
  until grep -Eq -- "$1" "$out"; do
    [ $SECONDS -lt $deadline ] || fail "no line matched /$1/ within $2 s"
    sleep 0.1
  done
}
