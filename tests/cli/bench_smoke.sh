#!/usr/bin/env bash
# Smoke test of `strata bench` (not a timed test): starts a broker on a
# loopback ephemeral port in a temp dir, runs small produce / consume / e2e
# loads and the histogram self-test against it, and stops the broker by PID.
#   bench_smoke.sh path/to/strata
set -euo pipefail
STRATA=$1
dir=$(mktemp -d /tmp/strata-bench-smoke.XXXXXX)
pid=""
cleanup() {
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
}
trap cleanup EXIT

"$STRATA" serve --override listeners=PLAINTEXT://127.0.0.1:0 --override "log.dirs=$dir/data" \
  --override strata.admin.listener= > "$dir/broker.log" 2>&1 &
pid=$!
bs=""
for _ in $(seq 200); do
  bs=$(grep -m1 -o 'listening on PLAINTEXT://127\.0\.0\.1:[0-9]*' "$dir/broker.log" | sed 's|.*://||' || true)
  [[ -n $bs ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
[[ -n $bs ]] || { echo "broker did not start:"; cat "$dir/broker.log"; exit 1; }

"$STRATA" bench selftest
"$STRATA" bench produce --bootstrap-server "$bs" --topic smoke --messages 1000 --partitions 4
"$STRATA" bench produce --bootstrap-server "$bs" --topic smoke --messages 1000 --acks all --compression lz4 \
  --rotate 0 --json
"$STRATA" bench consume --bootstrap-server "$bs" --topic smoke --messages 2000
"$STRATA" bench e2e --bootstrap-server "$bs" --topic smoke --messages 500 --rate 1000 --linger-ms 0 --json
for cmd in produce consume e2e setup mock-broker; do "$STRATA" bench "$cmd" --help > /dev/null; done
echo "bench smoke: ok"
