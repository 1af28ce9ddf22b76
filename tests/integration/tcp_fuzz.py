#!/usr/bin/python3
"""TCP-level fuzz load: mutated captured client frames over many connections.

Loads the frames captured by frames/capture.py, mutates them (bit flips,
boundary-value bytes and integers, truncation, size-prefix changes, splicing
two frames, duplicated frames, random API keys and versions, stacked 1-3 at a
time; one frame in ten goes out unmutated) and sends them to a broker over
`--connections` concurrent connections, some of them pipelining up to 8
requests. A connection that the broker closes is reopened; one that gets no
answer for `--stall` seconds (an acks=0 Produce, a size prefix promising more
bytes) is closed and reopened. Stops after `--frames` frames or `--seconds`
seconds, whichever comes first, and prints one JSON line of counters.

Every connection draws its frames from its own random.Random(seed, slot), so a
failure is replayed with the printed seed (`--seed`); `--dump DIR` also writes
the last 64 frames of every connection to DIR when the broker stops
answering (refused connections), and `--replay DIR` sends such frames again,
in order, and checks that the broker still answers.

    /usr/bin/python3 tests/integration/tcp_fuzz.py --bootstrap 127.0.0.1:9092 \\
        --frames 10000000 --seconds 3600 --connections 50

`--exclude-api 19,20,37` leaves frames of those API keys out (the fuzz test
leaves out CreateTopics, DeleteTopics and CreatePartitions: mutated topic
names and counts would create topics, which is Kafka's own behaviour, not a
leak, and the well-behaved client's topic must not be deleted).
"""

from __future__ import annotations

import argparse
import collections
import errno
import glob
import json
import os
import random
import selectors
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FRAMES_DIR = os.path.join(HERE, "frames")

BOUNDARY_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF)
BOUNDARY_I16 = (0, 1, -1, 0x7FFF, -0x8000, 0x100)
BOUNDARY_I32 = (0, 1, -1, 0x7FFFFFFF, -0x80000000, 0x10000, 0x100000, 0x7FFFFFFE)


def load_frames(directory: str = FRAMES_DIR, exclude: set | None = None) -> list[bytes]:
    out = []
    for path in sorted(glob.glob(os.path.join(directory, "*.bin"))):
        with open(path, "rb") as f:
            fr = f.read()
        if len(fr) < 12:
            continue
        key = struct.unpack(">h", fr[4:6])[0]
        if exclude and key in exclude:
            continue
        out.append(fr)
    if not out:
        raise SystemExit(f"no frames in {directory}")
    return out


class Mutator:
    def __init__(self, frames: list[bytes], rng: random.Random):
        self.frames = frames
        self.rng = rng

    def _fix_size(self, body: bytearray) -> bytes:
        return struct.pack(">i", len(body)) + bytes(body)

    def next(self, corr: int) -> list[bytes]:
        """One or two frames (a duplicated frame is sent twice)."""
        r = self.rng
        base = r.choice(self.frames)
        body = bytearray(base[4:])
        struct.pack_into(">i", body, 4, corr)  # header: key, version, correlation id
        if r.random() < 0.1:
            return [self._fix_size(body)]
        keep_size = None
        for _ in range(r.choice((1, 1, 1, 2, 3))):
            m = r.randrange(9)
            n = len(body)
            if n == 0:
                break
            if m == 0:  # bit flips
                for _ in range(r.randint(1, 8)):
                    i = r.randrange(n)
                    body[i] ^= 1 << r.randrange(8)
            elif m == 1:  # boundary bytes
                for _ in range(r.randint(1, 4)):
                    body[r.randrange(n)] = r.choice(BOUNDARY_BYTES)
            elif m == 2 and n >= 2:  # boundary int16 at a random offset (string and array lengths)
                struct.pack_into(">h", body, r.randrange(n - 1), r.choice(BOUNDARY_I16))
            elif m == 3 and n >= 4:  # boundary int32 at a random offset (counts, sizes)
                struct.pack_into(">i", body, r.randrange(n - 3), r.choice(BOUNDARY_I32))
            elif m == 4:  # truncation
                del body[r.randrange(max(1, n)):]
            elif m == 5:  # splice: this frame's head + another frame's tail
                other = r.choice(self.frames)[4:]
                body = body[:r.randrange(n + 1)] + other[r.randrange(len(other) + 1):]
            elif m == 6 and n >= 4:  # random API version (header bytes 2-3)
                struct.pack_into(">h", body, 2, r.choice((-1, 0, 1, 2, 3, 4, 5, 7, 9, 11, 13, 16, 100, 0x7FFF)))
            elif m == 7 and n >= 2:  # random API key
                struct.pack_into(">h", body, 0, r.choice((-1, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 22,
                                                         27, 50, 67, 68, 1000, 0x7FFF)))
            elif m == 8:  # size-prefix change: off by a little, zero, negative, or huge
                keep_size = r.choice((len(body) + 1, len(body) - 1, 0, -1, 7, len(body) + 100,
                                      0x7FFFFFFF, 100 << 20))
        out = struct.pack(">i", keep_size) + bytes(body) if keep_size is not None else self._fix_size(body)
        if r.random() < 0.05:
            return [out, out]
        return [out]


class Conn:
    __slots__ = ("slot", "sock", "mut", "outbuf", "inbuf", "pending", "depth", "last_progress",
                 "history", "corr", "connected")

    def __init__(self, slot: int, mut: Mutator, depth: int):
        self.slot = slot
        self.sock = None
        self.mut = mut
        self.depth = depth
        self.outbuf = bytearray()
        self.inbuf = bytearray()
        self.pending = 0
        self.last_progress = 0.0
        self.history = collections.deque(maxlen=64)
        self.corr = 0
        self.connected = False


def run(bootstrap: str, frames: int, seconds: float, connections: int, seed: int, stall: float = 0.25,
        exclude: set | None = None, dump: str | None = None, progress: float = 0.0,
        log=sys.stderr) -> dict:
    host, port = bootstrap.rsplit(":", 1)
    addr = (host, int(port))
    corpus = load_frames(exclude=exclude)
    sel = selectors.DefaultSelector()
    stats = collections.Counter()
    conns = []
    for slot in range(connections):
        # A fifth of the connections pipeline up to 8 requests; the rest wait for each answer.
        depth = 8 if slot % 5 == 0 else 1
        conns.append(Conn(slot, Mutator(corpus, random.Random(seed * 1_000_003 + slot)), depth))

    def close(c: Conn):
        if c.sock is not None:
            try:
                sel.unregister(c.sock)
            except (KeyError, ValueError):
                pass
            c.sock.close()
            c.sock = None
        c.outbuf.clear()
        c.inbuf.clear()
        c.pending = 0

    refused_since = None

    def open_conn(c: Conn, now: float) -> bool:
        nonlocal refused_since
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rc = s.connect_ex(addr)
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            stats["connect_errors"] += 1
            if refused_since is None:
                refused_since = now
            return False
        c.sock = s
        c.connected = False
        c.last_progress = now
        stats["connections"] += 1
        sel.register(s, selectors.EVENT_WRITE, c)  # writable: the connect finished, one way or the other
        return True

    def refused(e: OSError, now: float):
        # A non-blocking connect reports a refusal on the first send or recv.
        nonlocal refused_since
        if e.errno == errno.ECONNREFUSED:
            stats["connect_errors"] += 1
            if refused_since is None:
                refused_since = now
        else:
            stats["closed_by_broker"] += 1

    start = time.monotonic()
    deadline = start + seconds
    next_progress = start + progress if progress else None
    sent = 0
    while True:
        now = time.monotonic()
        if sent >= frames or now >= deadline:
            break
        if refused_since is not None and now - refused_since > 5.0:
            stats["broker_unreachable"] = 1
            if dump:
                _dump(dump, conns)
            break
        for c in conns:
            if c.sock is None:
                open_conn(c, now)
            elif (c.pending or c.outbuf) and now - c.last_progress > stall:
                stats["stalls"] += 1
                close(c)
        # Refill: every open connection with room in its pipeline gets new frames.
        for c in conns:
            if c.sock is not None and c.connected and not c.outbuf and c.pending < c.depth and sent < frames:
                while c.pending < c.depth and sent < frames:
                    c.corr += 1
                    for fr in c.mut.next(c.corr):
                        c.outbuf += fr
                        c.history.append(fr)
                        c.pending += 1
                        sent += 1
                sel.modify(c.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, c)
        for key, ev in sel.select(timeout=0.05):
            c = key.data
            if c.sock is None:
                continue
            if not c.connected:
                err = c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    refused(OSError(err, os.strerror(err)), now)
                    close(c)
                else:
                    c.connected = True
                    refused_since = None
                    sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            if ev & selectors.EVENT_WRITE and c.outbuf:
                try:
                    n = c.sock.send(c.outbuf)
                    del c.outbuf[:n]
                    stats["bytes_sent"] += n
                    c.last_progress = now
                    refused_since = None
                except BlockingIOError:
                    pass
                except OSError as e:
                    refused(e, now)
                    close(c)
                    continue
                if not c.outbuf:
                    sel.modify(c.sock, selectors.EVENT_READ, c)
            if ev & selectors.EVENT_READ:
                try:
                    data = c.sock.recv(262144)
                except BlockingIOError:
                    continue
                except OSError as e:
                    refused(e, now)
                    close(c)
                    continue
                if not data:
                    stats["closed_by_broker"] += 1
                    close(c)
                    continue
                c.last_progress = now
                c.inbuf += data
                while len(c.inbuf) >= 4:
                    n = struct.unpack_from(">i", c.inbuf, 0)[0]
                    if len(c.inbuf) < 4 + n:
                        break
                    del c.inbuf[:4 + n]
                    stats["responses"] += 1
                    c.pending = max(0, c.pending - 1)
        if next_progress and now >= next_progress:
            next_progress = now + progress
            print(json.dumps({"t": round(now - start, 1), "frames": sent, **stats}), file=log, flush=True)
    for c in conns:
        close(c)
    stats["frames"] = sent
    stats["seconds"] = round(time.monotonic() - start, 2)
    stats["seed"] = seed
    return dict(stats)


def _dump(directory: str, conns: list[Conn]):
    os.makedirs(directory, exist_ok=True)
    for c in conns:
        for i, fr in enumerate(c.history):
            with open(os.path.join(directory, f"conn{c.slot:03d}_{i:02d}.bin"), "wb") as f:
                f.write(fr)


def replay(bootstrap: str, paths: list[str], timeout: float = 2.0) -> bool:
    """Sends the given frame files, in order, on one connection (a new one
    after the broker closes it), reading what comes back; then checks that
    the broker still answers an ApiVersions request on a fresh connection."""
    host, port = bootstrap.rsplit(":", 1)
    addr = (host, int(port))
    files = []
    for p in paths:
        files += sorted(glob.glob(os.path.join(p, "*.bin"))) if os.path.isdir(p) else [p]
    s = None
    for f in files:
        with open(f, "rb") as fh:
            fr = fh.read()
        if s is None:
            s = socket.create_connection(addr, timeout=timeout)
        try:
            s.sendall(fr)
            s.recv(65536)
        except socket.timeout:
            pass
        except OSError:
            s.close()
            s = None
    if s is not None:
        s.close()
    probe = struct.pack(">hhih", 18, 0, 1, 5) + b"probe"
    try:
        with socket.create_connection(addr, timeout=10) as c:
            c.sendall(struct.pack(">i", len(probe)) + probe)
            head = c.recv(4)
            return len(head) == 4
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bootstrap", required=True, help="host:port of the broker")
    ap.add_argument("--frames", type=int, default=200_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--seed", type=int, default=None, help="default: random, printed")
    ap.add_argument("--stall", type=float, default=0.25, help="seconds without an answer before reconnecting")
    ap.add_argument("--exclude-api", default="", help="comma-separated API keys to leave out")
    ap.add_argument("--dump", default=None, help="write the last frames of each connection here if the broker "
                                                   "stops accepting connections")
    ap.add_argument("--progress", type=float, default=0.0, help="print counters every N seconds (stderr)")
    ap.add_argument("--replay", nargs="+", default=None, metavar="FRAME_OR_DIR",
                    help="send these frame files (or the *.bin of these dirs) in order, then check the "
                         "broker still answers; exit 1 if not")
    a = ap.parse_args()
    if a.replay:
        ok = replay(a.bootstrap, a.replay)
        print("broker answers after the replay" if ok else "BROKER DOES NOT ANSWER after the replay")
        return 0 if ok else 1
    seed = a.seed if a.seed is not None else random.randrange(1 << 31)
    print(f"tcp_fuzz: seed {seed} (replay with --seed {seed})", file=sys.stderr, flush=True)
    exclude = {int(x) for x in a.exclude_api.split(",") if x.strip()}
    res = run(a.bootstrap, a.frames, a.seconds, a.connections, seed, a.stall, exclude, a.dump, a.progress)
    print(json.dumps(res), flush=True)
    return 1 if res.get("broker_unreachable") else 0


if __name__ == "__main__":
    sys.exit(main())
