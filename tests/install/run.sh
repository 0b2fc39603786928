#!/usr/bin/env bash
# usage: run.sh BUILD_DIR CONSUMER_SOURCE CMAKE CXX
set -euo pipefail
build=$1 consumer=$2 cmake=$3 cxx=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cmake" --install "$build" --prefix "$work/prefix" >/dev/null
"$cmake" -S "$consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
         -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >/dev/null
"$cmake" --build "$work/build" -j 2 >/dev/null
out=$("$work/build/consumer")
echo "$out"
[ "$out" = "consumer: requests=3 p50_ok=1" ] || { echo "unexpected consumer output" >&2; exit 1; }
if [ -f "$build/actors/libmetron_actors.a" ]; then
  [ -x "$work/build/consumer_actors" ] || { echo "metron::actors missing from the installed package" >&2; exit 1; }
  out=$("$work/build/consumer_actors")
  echo "$out"
  [ "$out" = "consumer_actors: jobs=7" ] || { echo "unexpected consumer_actors output" >&2; exit 1; }
fi
