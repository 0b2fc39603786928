# metron-demo: bad options exit 2 with the error and the usage on stderr; --help exits 0.
source "$(dirname "$0")/lib.sh"
bad() { # bad EXPECTED_MESSAGE ARGS...
  local msg=$1; shift
  "$demo" "$@" >"$out" 2>"$err"
  local rc=$?
  [ $rc -eq 2 ] || fail "'$*' exited $rc, expected 2"
  grep -Fq -- "metron-demo: $msg" "$err" || fail "'$*': no message '$msg'"
  grep -q '^usage: metron-demo ' "$err" || fail "'$*': no usage"
  [ ! -s "$out" ] || fail "'$*' wrote to stdout"
}
demo=$1
bad "unknown option '--bogus'" --bogus
bad "--threads: '0' is not a whole number from 1 to 1024" --threads 0
bad "--threads: 'two' is not a whole number" --threads two
bad "--duration: '-1' is not a number of seconds >= 0" --duration -1
bad "--duration: 'soon' is not a number" --duration=soon
bad "--listen: 'localhost' is not HOST:PORT" --listen localhost
bad "--listen: '70000' is not a port from 0 to 65535" --listen 127.0.0.1:70000
bad "--duration needs a value" --duration
"$demo" --help >"$out" 2>"$err" || fail "--help exited $?"
expect_line '^usage: metron-demo \[--duration SECONDS\] \[--threads N\] \[--listen HOST:PORT\] \[--no-console\]$'
expect_line 'default 10'
echo "demo options: ok"
