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
