#!/usr/bin/python3
"""The broker's resident memory across waves of connections (issue 13: per-connection
memory must come back when connections close).

    bench/conn_churn.py [--strata PATH] [--rounds 10] [--connections 10000]
                        [--override key=value ...] [--env NAME=VALUE ...]

Starts one broker (loopback, ephemeral ports, a temporary data directory), then, per
round: opens --connections connections (from source address 127.0.0.<2 + round>, so no
round waits on another's TIME_WAIT), sends ApiVersions on each and reads the answers,
records the broker's VmRSS, closes them all (RST: SO_LINGER 0), waits until the admin
API's strata_active_connections is 0 and VmRSS has been steady for 3 s (so the broker's
periodic malloc_trim has had its turn), and records VmRSS again. Prints one line per
round and a summary; the broker is stopped by PID at the end. --env sets variables in
the broker's environment (e.g. MALLOC_ARENA_MAX=2, to compare)."""

import argparse
import os
import re
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def api_versions(cid: int) -> bytes:
    body = struct.pack(">hhih", 18, 0, cid, 5) + b"churn"
    return struct.pack(">i", len(body)) + body


def active_connections(admin_port: int) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("strata_active_connections"):
                return int(float(line.split()[-1]))
    raise RuntimeError("no strata_active_connections in /metrics")


def one_round(port: int, n: int, source: str) -> list:
    socks = []
    for i in range(n):
        s = socket.socket()
        s.bind((source, 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.connect(("127.0.0.1", port))
        s.setblocking(False)
        socks.append(s)
    sel = selectors.DefaultSelector()
    want = {}
    for i, s in enumerate(socks):
        s.sendall(api_versions(i))  # small: fits the socket buffer at once
        sel.register(s, selectors.EVENT_READ)
        want[s] = None
    buf = {s: b"" for s in socks}
    deadline = time.monotonic() + 120
    while want and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                raise RuntimeError("the broker closed a connection")
            buf[s] += data
            if len(buf[s]) >= 4 and len(buf[s]) >= 4 + struct.unpack(">i", buf[s][:4])[0]:
                sel.unregister(s)
                del want[s]
    if want:
        raise RuntimeError(f"{len(want)} connections not answered")
    sel.close()
    return socks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--strata", default=os.environ.get("STRATA_BIN", os.path.join(ROOT, "build", "strata")))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=10000)
    ap.add_argument("--override", action="append", default=[])
    ap.add_argument("--env", action="append", default=[])
    a = ap.parse_args()

    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    tmp = tempfile.mkdtemp(prefix="strata-churn-")
    env = dict(os.environ)
    for e in a.env:
        k, _, v = e.partition("=")
        env[k] = v
    cmd = [a.strata, "serve", "--override", "listeners=PLAINTEXT://127.0.0.1:0", "--override",
           f"log.dirs={tmp}/data", "--override", "strata.admin.listener=127.0.0.1:0"]
    for o in a.override:
        cmd += ["--override", o]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp)
    lines = []

    def drain():
        for line in proc.stdout:
            lines.append(line.decode(errors="replace"))

    threading.Thread(target=drain, daemon=True).start()
    try:
        port = admin = None
        deadline = time.monotonic() + 30
        while (port is None or admin is None) and time.monotonic() < deadline:
            text = "".join(lines)
            m = re.search(r"listening on PLAINTEXT://127\.0\.0\.1:(\d+)", text)
            m2 = re.search(r"admin listening on http://127\.0\.0\.1:(\d+)", text)
            if m and m2 and "started in" in text:
                port, admin = int(m.group(1)), int(m2.group(1))
            time.sleep(0.05)
        if port is None:
            raise RuntimeError("broker did not start:\n" + "".join(lines))
        base = rss_kib(proc.pid)
        print(f"broker {a.strata} env {a.env or '-'} overrides {a.override or '-'}")
        print(f"start: VmRSS {base / 1024:.1f} MiB")
        after = []
        for r in range(a.rounds):
            t0 = time.monotonic()
            socks = one_round(port, a.connections, f"127.0.0.{2 + r % 200}")
            peak = rss_kib(proc.pid)
            for s in socks:
                s.close()
            deadline = time.monotonic() + 60
            while active_connections(admin) > 0 and time.monotonic() < deadline:
                time.sleep(0.1)
            # Steady for 3 s (the broker trims at most every 2 s).
            last, steady_since = rss_kib(proc.pid), time.monotonic()
            while time.monotonic() - steady_since < 3 and time.monotonic() < deadline:
                time.sleep(0.25)
                now = rss_kib(proc.pid)
                if abs(now - last) > 256:
                    last, steady_since = now, time.monotonic()
            after.append(rss_kib(proc.pid))
            print(f"round {r + 1}: {a.connections} connections open: VmRSS {peak / 1024:.1f} MiB; "
                  f"all closed: {after[-1] / 1024:.1f} MiB ({time.monotonic() - t0:.1f} s)", flush=True)
        print(f"summary: start {base / 1024:.1f} MiB, after round 1 {after[0] / 1024:.1f} MiB, "
              f"after round {a.rounds} {after[-1] / 1024:.1f} MiB")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
