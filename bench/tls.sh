#!/usr/bin/env bash
# What TLS costs: one Strata broker with a PLAINTEXT and an SSL listener, the same
# `strata bench` loads over each, alternating which goes first every round.
#
#   bench/tls.sh [--strata PATH] [--rounds N] [--messages N] [--size BYTES] [--idle N]
#                [--quick] [--keep]
#
# Makes a throwaway CA and broker certificate with openssl, then per round produces
# --messages x --size B (64 partitions, acks=1, linger 5 ms, 1 MiB batches) over
# each listener into a topic of its own and consumes it back over the same listener,
# reading the broker's CPU time (ns, /proc/<pid>/task/*/schedstat) around each load.
# Prints each run and the medians with TLS/plaintext ratios. Then the memory of idle
# clients: the broker's VmRSS with --idle plaintext connections open, then with --idle
# TLS ones (each sends ApiVersions, reads the answer and stays open until all are).
# --quick (CI smoke): 20,000 messages, one round, 50 idle connections. Every process
# it started is stopped by PID on exit.
set -euo pipefail
# shellcheck source=bench/servers.sh
. "$(dirname "$0")/servers.sh"

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${STRATA_BIN:-$(dirname "$here")/build-bench/strata}
ROUNDS=3
N=1000000
SIZE=100
IDLE=1000
KEEP=0
PARTS=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --strata) BIN=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --messages) N=$2; shift ;;
    --size) SIZE=$2; shift ;;
    --idle) IDLE=$2; shift ;;
    --quick) N=20000; ROUNDS=1; IDLE=50 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "tls.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

make_work_dir tls-bench

ssl() { openssl "$@" > /dev/null 2>&1 || { echo "tls.sh: openssl $1 failed" >&2; exit 1; }; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/ca.key" -out "$work/ca.pem" -days 1 -subj /CN=strata-bench-ca
ssl req -newkey rsa:2048 -nodes -keyout "$work/broker.key" -out "$work/broker.csr" -subj /CN=localhost
echo "subjectAltName=IP:127.0.0.1" > "$work/san.cnf"
ssl x509 -req -in "$work/broker.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -out "$work/broker.pem" -days 1 -extfile "$work/san.cnf"
cat "$work/broker.key" "$work/broker.pem" > "$work/keystore.pem"

start_strata "$BIN" "$work/data" "$work/broker.log" --override num.partitions=$PARTS \
  --override "listeners=PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0" \
  --override "ssl.keystore.location=$work/keystore.pem"
PID=$SERVER_PID; PLAIN_BS=$SERVER_BS
line=$(grep -m1 -o 'listening on SSL://127\.0\.0\.1:[0-9]*' "$work/broker.log")
SSL_BS=${line#listening on SSL://}
TLS_X=(-X security.protocol=ssl -X "ssl.ca.location=$work/ca.pem")

topics=()
for r in $(seq "$ROUNDS"); do topics+=("plain$r" "tls$r"); done
"$BIN" bench setup --bootstrap-server "$PLAIN_BS" --topics "$(IFS=,; echo "${topics[*]}")" --partitions "$PARTS" -q > /dev/null
# Warm both paths (connections, TLS sessions, __consumer_offsets) outside the figures.
"$BIN" bench produce --bootstrap-server "$PLAIN_BS" --topic plain1 --messages "$PARTS" --rotate 1 -q > /dev/null
"$BIN" bench produce --bootstrap-server "$SSL_BS" "${TLS_X[@]}" --topic tls1 --messages "$PARTS" --rotate 1 -q > /dev/null
echo "tls.sh: plaintext $PLAIN_BS, TLS $SSL_BS; $N x $SIZE B, $ROUNDS round(s)" >&2

LOAD=(--size "$SIZE" --linger-ms 5 --batch-size 1048576 --compression none --rotate 1000 --acks 1)
: > "$work/results"
measure() {  # measure ROUND TRANSPORT LOAD bench-args...
  local r=$1 t=$2 load=$3 before after; shift 3
  before=$(cpu_ns "$PID")
  "$BIN" bench "$@" --json -q > "$work/out.json"
  after=$(cpu_ns "$PID")
  echo "$r $t $load $before $after $(cat "$work/out.json")" >> "$work/results"
}
for r in $(seq "$ROUNDS"); do
  order=(plain tls)
  (( r % 2 == 0 )) && order=(tls plain)
  for t in "${order[@]}"; do
    if [[ $t == plain ]]; then x=(--bootstrap-server "$PLAIN_BS"); else x=(--bootstrap-server "$SSL_BS" "${TLS_X[@]}"); fi
    measure "$r" "$t" produce produce "${x[@]}" --topic "$t$r" --messages "$N" "${LOAD[@]}"
    measure "$r" "$t" consume consume "${x[@]}" --topic "$t$r"
  done
done

/usr/bin/python3 - "$work/results" <<'EOF'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r, t, load, b, a, js = line.split(" ", 5)
    res = json.loads(js)
    m = res.get("messages", 0) or 1
    cpu = (int(a) - int(b)) / 1e9
    rows.setdefault((load, t), []).append((res.get("msgs_per_sec", 0), res.get("mib_per_sec", 0), cpu / m * 1e6))
    print(f"round {r} {load:<8} {t:<5} {res.get('msgs_per_sec', 0):>10.0f} msg/s  {res.get('mib_per_sec', 0):7.1f} MiB/s"
          f"  broker cpu {cpu:.3f} s ({cpu / m * 1e6:.4f} s/M)")
print("\n| load | figure | plaintext | TLS | TLS/plaintext |\n| --- | --- | ---: | ---: | ---: |")
for load in ("produce", "consume"):
    for i, name in enumerate(["msgs/s", "MiB/s", "broker CPU s / M msgs"]):
        p = statistics.median(x[i] for x in rows[(load, "plain")])
        s = statistics.median(x[i] for x in rows[(load, "tls")])
        print(f"| {load} | {name} | {p:,.3f} | {s:,.3f} | {s / p:.2f} |" if p else f"| {load} | {name} | 0 | {s} | n/a |")
EOF

# Idle clients: RSS with IDLE plaintext connections, then with IDLE TLS connections.
PYTHONPATH="$here" /usr/bin/python3 - "$PID" "${PLAIN_BS##*:}" "${SSL_BS##*:}" "$IDLE" "$work/ca.pem" <<'EOF'
import ssl, sys
import idle_clients  # bench/, on PYTHONPATH
pid, plain, tls, n, ca = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

def hold(port, wrap):
    socks = idle_clients.open_idle(port, n, wrap)
    try:
        return rss_kib()
    finally:
        for s in socks:
            s.close()

base = rss_kib()
plain_rss = hold(plain, None)
tls_rss = hold(tls, lambda s: ctx.wrap_socket(s, server_hostname="127.0.0.1"))
print(f"\n| idle clients | broker VmRSS | per connection |\n| --- | ---: | ---: |")
print(f"| none | {base / 1024:.1f} MiB | |")
print(f"| {n} plaintext | {plain_rss / 1024:.1f} MiB | {(plain_rss - base) / n:.1f} KiB |")
print(f"| {n} TLS (after the plaintext ones closed) | {tls_rss / 1024:.1f} MiB | {(tls_rss - base) / n:.1f} KiB |")
EOF
