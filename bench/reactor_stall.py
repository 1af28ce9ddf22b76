#!/usr/bin/env python3
"""How long admin work stalls other connections of the same reactor.

  bench/reactor_stall.py STRATA_BIN PORT create     # CreateTopics of 1,000 partitions
  bench/reactor_stall.py STRATA_BIN PORT coordinator  # first FindCoordinator (__consumer_offsets)

Run against a broker started with --override num.network.threads=1 (so every
connection shares one reactor) and an empty log dir. One connection sends
ApiVersions v0 in a loop while the admin request runs on another; prints the admin
request's duration and the slowest ApiVersions round trip meanwhile.
"""
import socket, struct, subprocess, sys, threading, time

bin_, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def conn():
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def call(c, body):
    c.sendall(struct.pack(">i", len(body)) + body)
    n = struct.unpack(">i", c.recv(4, socket.MSG_WAITALL))[0]
    return c.recv(n, socket.MSG_WAITALL)


pinger = conn()
done = False


def admin():
    global done
    t0 = time.time()
    if mode == "create":
        subprocess.run([bin_, "bench", "setup", "--bootstrap-server", f"127.0.0.1:{port}", "--topics", "wide",
                        "--partitions", "1000", "-q"], check=True, stdout=subprocess.DEVNULL)
        what = "CreateTopics, 1,000 partitions"
    else:
        call(conn(), struct.pack(">hhih", 10, 0, 1, -1) + struct.pack(">h", 5) + b"group")
        what = "first FindCoordinator"
    print(f"{what}: {(time.time() - t0) * 1000:.0f} ms")
    done = True


th = threading.Thread(target=admin)
th.start()
worst, n = 0.0, 0
while not done:
    t = time.perf_counter()
    call(pinger, struct.pack(">hhih", 18, 0, 2, -1))
    worst = max(worst, time.perf_counter() - t)
    n += 1
    time.sleep(0.001)
th.join()
print(f"ApiVersions on another connection of the same reactor meanwhile: {n} calls, slowest {worst * 1000:.1f} ms")
