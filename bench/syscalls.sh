#!/bin/bash
# usage: run.sh BIN NAME [overrides...]: latency load of 5000 msgs at 5000/s under strace -c
BIN=$1; NAME=$2; shift 2
d=$(mktemp -d /tmp/sc/d.XXXX)
$BIN serve --override listeners=PLAINTEXT://127.0.0.1:0 --override log.dirs=$d --override strata.admin.listener= --override num.partitions=64 "$@" > $d/log 2>&1 &
P=$!
for i in $(seq 100); do bs=$(grep -m1 -o '127\.0\.0\.1:[0-9]*' $d/log) && break; sleep 0.05; done
$BIN bench produce --bootstrap-server $bs --topic lat --messages 640 --rotate 1 -q >/dev/null
args=""; for t in $(ls /proc/$P/task); do args="$args -p $t"; done
strace -c -f $args -o /tmp/sc/$NAME.strace 2>/dev/null &
S=$!
sleep 1
[ -z "$BIG" ] && $BIN bench produce --bootstrap-server $bs --topic lat --size 100 --linger-ms 0 --acks 1 --rate 5000 --messages 5000 --json -q > /tmp/sc/$NAME.json
[ -n "$BIG" ] && $BIN bench produce --bootstrap-server $bs --topic big --size 100 --linger-ms 5 --batch-size 1048576 --compression none --rotate 1000 --messages 200000 --acks 1 --json -q > /tmp/sc/$NAME.big.json
sleep 0.5
kill -INT $S; wait $S
kill -TERM $P; wait $P
rm -rf $d
