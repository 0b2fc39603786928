# The cluster example: two metron-cluster-node processes publish their monitors, a
# metron-cluster-collector merges them; its printed view must show both nodes up
# and merged series, and its Prometheus endpoint must serve the merged and the
# per-node series. Every process started here is stopped by PID.
# usage: check_cluster.sh NODE_BINARY COLLECTOR_BINARY
source "$(dirname "$0")/lib.sh"
node=$1
collector=$2
n1=$(mktemp) n2=$(mktemp) metrics=$(mktemp)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -f "$out" "$err" "$n1" "$n2" "$metrics"
}
trap cleanup EXIT

"$node" --threads 1 --seconds 60 --interval-ms 200 >"$n1" 2>>"$err" & pids+=($!)
"$node" --threads 1 --seconds 60 --interval-ms 200 >"$n2" 2>>"$err" & pids+=($!)
port_of() { # waits (bounded) for the node's "publishing on" line; fails after 30 s
  local deadline=$((SECONDS + 30))
  until grep -q "publishing on 127.0.0.1:" "$1"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
  sed -n 's/.*publishing on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" | head -1
}
p1=$(port_of "$n1") || fail "node 1 did not publish within 30 s: $(cat "$n1")"
p2=$(port_of "$n2") || fail "node 2 did not publish within 30 s: $(cat "$n2")"

"$collector" --prometheus-port 0 --seconds 0 --print-ms 500 "127.0.0.1:$p1" "127.0.0.1:$p2" >"$out" 2>>"$err" &
pids+=($!)
wait_for_line "2 nodes, Prometheus on http://127.0.0.1:[0-9]+/metrics" 30
prom=$(sed -n 's|.*Prometheus on \(http://127.0.0.1:[0-9]*/metrics\).*|\1|p' "$out" | head -1)
# both nodes up in one printed view, with merged (node-less) series
wait_for_line "node 127.0.0.1:$p2 +up" 30
expect_line "node 127.0.0.1:$p1 +up"
wait_for_line "^  cluster_request_latency_seconds +count=[1-9]" 30
expect_line "^  cluster_requests_total\{status=\"ok\"\} +total=[1-9]"

curl -fsS --max-time 10 "$prom" >"$metrics" || fail "scraping $prom failed"
grep -Eq "^cluster_requests_total\{status=\"ok\"\} [1-9]" "$metrics" || fail "no merged counter in /metrics"
grep -Eq "^cluster_requests_total\{node=\"127.0.0.1:$p1\",status=\"ok\"\} [1-9]" "$metrics" \
  || fail "no per-node counter for node 1 in /metrics"
grep -Eq "^metron_cluster_node_up\{node=\"127.0.0.1:$p2\"\} 1" "$metrics" || fail "node 2 not up in /metrics"
echo "cluster example: nodes $p1 and $p2 merged, scraped at $prom"
