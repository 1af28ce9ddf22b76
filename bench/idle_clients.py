"""Idle Kafka clients for the benchmark scripts (footprint.sh, tls.sh): connections
that have each sent one ApiVersions request and read its answer, and stay open."""

import socket
import struct


def _api_versions_v0(correlation_id: int) -> bytes:
    body = struct.pack(">hhih", 18, 0, correlation_id, 4) + b"idle"
    return struct.pack(">i", len(body)) + body


def _recv_exact(s, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise OSError("the broker closed an idle connection")
        buf += chunk
    return buf


def open_idle(port: int, n: int, wrap=None) -> list:
    """n connections to 127.0.0.1:port (each passed through `wrap`, e.g. an SSL
    context's wrap_socket, when given), returned once every one has its ApiVersions
    answer. The caller closes them."""
    socks = []
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            if wrap:
                s = wrap(s)
            socks.append(s)
            s.sendall(_api_versions_v0(i))
        for s in socks:
            _recv_exact(s, struct.unpack(">i", _recv_exact(s, 4))[0])
    except BaseException:
        for s in socks:
            s.close()
        raise
    return socks
