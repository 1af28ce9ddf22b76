#!/usr/bin/python3
"""The README's quick start, as a newcomer runs it: the shell block between
`<!-- quickstart:begin -->` and `<!-- quickstart:end -->` is run exactly as
written (bash -e -o pipefail, from a directory where `build/strata` is the
binary under test) against a fresh broker on 127.0.0.1:9092 (the README's
localhost:9092), and its stdout+stderr must equal the block between
`<!-- quickstart:expect:begin -->` and `<!-- quickstart:expect:end -->`.

Binds port 9092: ctest runs it under RESOURCE_LOCK port9092, and it fails
with a clear message if something else already listens there."""

import os
import re
import socket
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

README = os.path.join(harness.REPO, "README.md")
PORT = 9092


def fenced_block(text: str, begin: str, end: str) -> str:
    """The body of the one fenced code block between two HTML-comment markers."""
    m = re.search(re.escape(f"<!-- {begin} -->") + r"\s*```[a-z]*\n(.*?)```\s*" + re.escape(f"<!-- {end} -->"),
                  text, re.S)
    if not m:
        raise AssertionError(f"README.md has no fenced block between <!-- {begin} --> and <!-- {end} -->")
    return m.group(1)


def port_in_use(port: int) -> str:
    """'' if nothing listens on localhost:port (v4 or v6), else who answers."""
    for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family) as s:
                s.settimeout(1)
                if s.connect_ex((addr, port)) == 0:
                    return f"{addr}:{port} accepts connections"
        except OSError:
            pass  # no IPv6 on this host
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            return f"cannot bind 127.0.0.1:{port}: {e}"
    return ""


class ReadmeQuickstart(harness.BrokerTestCase):
    def test_quickstart_runs_as_written(self):
        with open(README, encoding="utf-8") as f:
            text = f.read()
        script = fenced_block(text, "quickstart:begin", "quickstart:end")
        expected = fenced_block(text, "quickstart:expect:begin", "quickstart:expect:end")
        self.assertIn("build/strata produce", script)
        self.assertIn("build/strata consume", script)

        busy = port_in_use(PORT)
        if busy:
            self.fail(f"port {PORT} is taken ({busy}): stop whatever broker runs there; the quick-start test "
                      f"needs localhost:{PORT} as the README does")
        # The admin listener is off: only 9092 is this test's to take.
        b = self.broker(name="quickstart", start=False, overrides={"strata.admin.listener": ""})
        b.start(port=PORT)
        self.assertEqual(b.port, PORT)

        with tempfile.TemporaryDirectory(prefix="strata-quickstart-") as cwd:
            os.mkdir(os.path.join(cwd, "build"))
            os.symlink(os.path.abspath(harness.STRATA_BIN), os.path.join(cwd, "build", "strata"))
            # One pipe for stdout and stderr: the terminal's interleaving.
            r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=cwd, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
        out = r.stdout.decode("utf-8", "replace")
        self.assertEqual(r.returncode, 0, f"the quick-start block failed; its output:\n{out}")
        self.assertEqual(out, expected, "the quick-start block's output differs from what README.md shows")


if __name__ == "__main__":
    harness.main()
