#!/usr/bin/python3
"""SSL listeners against real clients: confluent_kafka, kafka-python and kcat produce
and consume over TLS; Metadata sends each client to the listener it came in on; a
plaintext client or one that does not trust the broker's CA is refused while others
carry on; ssl.client.auth=required refuses clients without a certificate; a PKCS12
keystore works; a broken TLS configuration stops the broker at start with the setting
named. Certificates are made for the run with the openssl command line tool."""

import os
import random
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402
import harness  # noqa: E402

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
KCAT = shutil.which("kcat") or "/usr/bin/kcat"
P12_PASSWORD = "p12-secret"
KEY_PASSWORD = "pem-secret"


def openssl(*args):
    subprocess.run([OPENSSL, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)


class Certs:
    """A CA, a broker certificate for 127.0.0.1/localhost signed by it, a client
    certificate, a second CA nobody uses, and the broker's key and chain as a PEM
    keystore and as a password-protected PKCS12 file."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="strata-it-tls-")
        d = self.path
        for ca in ("ca", "other-ca"):
            openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d(f"{ca}.key"), "-out",
                    d(f"{ca}.pem"), "-days", "2", "-subj", f"/CN=strata-it-{ca}")
        with open(d("san.cnf"), "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for who, cn, ext in (("broker", "localhost", ["-extfile", d("san.cnf")]), ("client", "client-1", [])):
            openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", d(f"{who}.key"), "-out", d(f"{who}.csr"),
                    "-subj", f"/CN={cn}")
            openssl("x509", "-req", "-in", d(f"{who}.csr"), "-CA", d("ca.pem"), "-CAkey", d("ca.key"),
                    "-CAcreateserial", "-out", d(f"{who}.pem"), "-days", "2", *ext)
        with open(d("keystore.pem"), "w") as out:  # Kafka's PEM keystore: key, then chain
            for part in ("broker.key", "broker.pem", "ca.pem"):
                out.write(open(d(part)).read())
        openssl("pkey", "-in", d("broker.key"), "-aes256", "-passout", f"pass:{KEY_PASSWORD}", "-out",
                d("broker-encrypted.key"))
        with open(d("keystore-encrypted.pem"), "w") as out:
            for part in ("broker-encrypted.key", "broker.pem"):
                out.write(open(d(part)).read())
        openssl("pkcs12", "-export", "-inkey", d("broker.key"), "-in", d("broker.pem"), "-certfile", d("ca.pem"),
                "-out", d("keystore.p12"), "-passout", f"pass:{P12_PASSWORD}")

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def ssl_conf(bootstrap: str, ca: str, extra: dict | None = None) -> dict:
    return clients.base_conf(bootstrap) | {"security.protocol": "SSL", "ssl.ca.location": ca} | (extra or {})


def api_versions_frame() -> bytes:
    # ApiVersions v0, correlation id 7, client id "probe": what any Kafka client sends first.
    body = struct.pack(">hhih", 18, 0, 7, 5) + b"probe"
    return struct.pack(">i", len(body)) + body


class TlsTest(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        cls.certs = Certs()

    @classmethod
    def tearDownClass(cls):
        cls.certs.cleanup()

    def tls_broker(self, **extra):
        overrides = {"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
                     "ssl.keystore.location": self.certs.path("keystore.pem")}
        overrides.update(extra)
        return self.broker(overrides=overrides)

    def roundtrip(self, conf: dict, topic: str, n: int = 50):
        """Produces n messages with `conf` (acks=all) and reads them back with it."""
        p = Producer(conf | {"acks": "all", "message.timeout.ms": 20000})
        acked = []
        for i in range(n):
            p.produce(topic, key=f"k{i}".encode(), value=f"tls-{i}".encode(), partition=0,
                      on_delivery=lambda err, m: acked.append(err))
        self.assertEqual(p.flush(30), 0, "messages left undelivered")
        self.assertEqual(acked, [None] * n)
        c = Consumer(conf | {"group.id": "tls-it", "enable.auto.commit": False, "auto.offset.reset": "earliest"})
        c.assign([TopicPartition(topic, 0, 0)])
        got = []
        d = harness.Deadline(30)
        while len(got) < n and not d.expired():
            m = c.poll(0.2)
            if m is not None and not m.error():
                got.append((m.key(), m.value()))
        c.close()
        self.assertEqual(got, [(f"k{i}".encode(), f"tls-{i}".encode()) for i in range(n)])

    def test_confluent_kafka_over_ssl_and_metadata_per_listener(self):
        b = self.tls_broker()
        conf = ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem"))
        a = AdminClient(conf)  # kept: the futures fail if the client is destroyed first
        res = clients.wait_futures(a.create_topics([NewTopic("secure", 1, 1)]))
        self.assertIsNone(res["secure"])
        self.roundtrip(conf, "secure")
        # Each client is sent to the port of the listener it connected to.
        ssl_md = a.list_topics(timeout=10)
        self.assertEqual([(x.host, x.port) for x in ssl_md.brokers.values()], [("127.0.0.1", b.ssl_port)])
        plain_md = clients.admin(b.bootstrap).list_topics(timeout=10)
        self.assertEqual([(x.host, x.port) for x in plain_md.brokers.values()], [("127.0.0.1", b.port)])
        self.assertIn("secure", plain_md.topics)  # one broker behind both listeners

    def test_kafka_python_over_ssl(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KTP
        b = self.tls_broker()
        clients.create_topic(b.bootstrap, "kp-secure", 1)
        p = KafkaProducer(bootstrap_servers=b.ssl_bootstrap, security_protocol="SSL",
                          ssl_cafile=self.certs.path("ca.pem"), acks="all")
        for i in range(20):
            p.send("kp-secure", value=f"kp-{i}".encode(), partition=0)
        p.flush(30)
        p.close()
        c = KafkaConsumer(bootstrap_servers=b.ssl_bootstrap, security_protocol="SSL",
                          ssl_cafile=self.certs.path("ca.pem"), consumer_timeout_ms=10000,
                          auto_offset_reset="earliest", enable_auto_commit=False)
        c.assign([KTP("kp-secure", 0)])
        got = []
        for m in c:
            got.append(m.value)
            if len(got) == 20:
                break
        c.close()
        self.assertEqual(got, [f"kp-{i}".encode() for i in range(20)])

    def test_kcat_over_ssl(self):
        b = self.tls_broker()
        clients.create_topic(b.bootstrap, "kc-secure", 1)
        tls = ["-X", "security.protocol=ssl", "-X", f"ssl.ca.location={self.certs.path('ca.pem')}"]
        lines = [f"line-{i}" for i in range(30)]
        r = subprocess.run([KCAT, "-b", b.ssl_bootstrap, *tls, "-t", "kc-secure", "-p", "0", "-P"],
                           input="\n".join(lines).encode() + b"\n", capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        r = subprocess.run([KCAT, "-b", b.ssl_bootstrap, *tls, "-t", "kc-secure", "-p", "0", "-C", "-e", "-o",
                            "beginning", "-q"], capture_output=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout.decode().splitlines(), lines)

    def test_plaintext_and_untrusting_clients_are_refused_and_others_carry_on(self):
        b = self.tls_broker()
        clients.create_topic(b.bootstrap, "refusals", 1)
        # A plaintext Kafka request on the SSL port is not a TLS ClientHello: closed.
        with socket.create_connection(("127.0.0.1", b.ssl_port), timeout=10) as s:
            s.sendall(api_versions_frame())
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            self.assertEqual(data[:1] in (b"", b"\x15"), True, f"expected a close or a TLS alert, got {data[:20]!r}")
        # A client that trusts another CA rejects the broker's certificate.
        other = AdminClient(ssl_conf(b.ssl_bootstrap, self.certs.path("other-ca.pem"), {"log_level": 0}))
        with self.assertRaises(KafkaException):
            other.list_topics(timeout=3)
        b.wait_for_log(r"TLS handshake with 127\.0\.0\.1:\d+ on listener SSL failed", timeout=10)
        # Neither disturbed the broker.
        self.roundtrip(ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem")), "refusals", n=5)
        clients.roundtrip_ok(b.bootstrap, "refusals", "plain-after")

    def test_garbage_and_abandoned_handshakes_on_the_ssl_port(self):
        b = self.tls_broker()
        clients.create_topic(b.bootstrap, "garbage", 1)
        rng = random.Random(20261121)
        hello = None
        # A real ClientHello to cut short: what Python's ssl module sends first.
        ctx = ssl.create_default_context(cafile=self.certs.path("ca.pem"))
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out, server_hostname="127.0.0.1")
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            hello = out.read()
        self.assertTrue(hello and hello[0] == 0x16, "no ClientHello")
        payloads = [bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096))) for _ in range(20)]
        payloads += [hello[:n] for n in (1, 5, 40, len(hello) // 2)]  # then silence and close
        payloads += [b"\x16\x03\x01\xff\xff" + bytes(64)]  # a record header claiming 64 KiB
        payloads += [b""]  # connect and close at once
        socks = []
        for p in payloads:
            s = socket.create_connection(("127.0.0.1", b.ssl_port), timeout=10)
            if p:
                s.sendall(p)
            socks.append(s)
        for s in socks:  # abandon them all at once
            s.close()
        # A full handshake finished by a client that then sends garbage inside TLS.
        with socket.create_connection(("127.0.0.1", b.ssl_port), timeout=10) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as t:
                t.sendall(struct.pack(">i", 12) + bytes(rng.getrandbits(8) for _ in range(12)))
                try:
                    t.recv(1)  # the broker closes: not a valid request
                except (ssl.SSLError, ConnectionResetError, OSError):
                    pass
        self.assertTrue(b.alive())
        self.roundtrip(ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem")), "garbage", n=5)

    def test_required_client_certificates(self):
        b = self.tls_broker(**{"ssl.client.auth": "required",
                               "ssl.truststore.location": self.certs.path("ca.pem")})
        clients.create_topic(b.bootstrap, "mtls", 1)
        anonymous = AdminClient(ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem"), {"log_level": 0}))
        with self.assertRaises(KafkaException):
            anonymous.list_topics(timeout=3)
        b.wait_for_log(r"TLS handshake .* failed: peer did not return a certificate", timeout=10)
        with_cert = ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem"),
                             {"ssl.certificate.location": self.certs.path("client.pem"),
                              "ssl.key.location": self.certs.path("client.key")})
        self.roundtrip(with_cert, "mtls", n=10)

    def test_pkcs12_keystore(self):
        b = self.tls_broker(**{"ssl.keystore.type": "PKCS12",
                               "ssl.keystore.location": self.certs.path("keystore.p12"),
                               "ssl.keystore.password": P12_PASSWORD})
        clients.create_topic(b.bootstrap, "p12", 1)
        self.roundtrip(ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem")), "p12", n=10)

    def test_encrypted_pem_key(self):
        b = self.tls_broker(**{"ssl.keystore.location": self.certs.path("keystore-encrypted.pem"),
                               "ssl.key.password": KEY_PASSWORD})
        clients.create_topic(b.bootstrap, "encrypted", 1)
        self.roundtrip(ssl_conf(b.ssl_bootstrap, self.certs.path("ca.pem")), "encrypted", n=5)

    def test_broken_tls_settings_stop_the_broker_at_start_naming_the_setting(self):
        cases = [
            ({}, "ssl.keystore.location"),  # no key at all
            ({"ssl.keystore.location": self.certs.path("missing.pem")}, "cannot read"),
            ({"ssl.keystore.type": "PKCS12", "ssl.keystore.location": self.certs.path("keystore.p12"),
              "ssl.keystore.password": "wrong"}, "wrong password"),
            # An encrypted key without its password: an error, not a passphrase prompt.
            ({"ssl.keystore.location": self.certs.path("keystore-encrypted.pem")}, "set ssl.key.password"),
            ({"ssl.keystore.location": self.certs.path("keystore-encrypted.pem"), "ssl.key.password": "wrong"},
             "is ssl.key.password right"),
            ({"ssl.keystore.location": self.certs.path("keystore.pem"), "ssl.client.auth": "required"},
             "needs a truststore"),
            ({"ssl.keystore.location": self.certs.path("keystore.pem"), "ssl.enabled.protocols": "TLSv1.1"},
             "ssl.enabled.protocols"),
        ]
        for extra, needle in cases:
            with self.subTest(needle=needle):
                overrides = {"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0"} | extra
                with self.assertRaises(harness.BrokerStartError) as cm:
                    self.broker(overrides=overrides, startup_timeout=15)
                self.assertIn(needle, str(cm.exception))


if __name__ == "__main__":
    harness.main()
