"""`gdlab --probe PATH`, the health check of the distroless image: exit 0 on a 2xx answer from the
server at --bind/--port (a wildcard bind is asked on loopback), 1 on any other answer, a refused
connection or a server that accepts but never answers (within its 2 s budget), 2 on a bad path."""
import os
import socket
import subprocess
import time
import unittest

from gdlab_api import BINARY, Server


def probe(*args, env=None):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GDLAB_")}
    return subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30,
                          env=dict(clean, **(env or {})))


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProbeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server("--bind", "127.0.0.1").__enter__()
        cls.port = str(cls.server.port)

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_status_decides_the_exit_code(self):
        cases = [
            (["--probe", "/health"], 0, ""),
            (["--probe=/ready"], 0, ""),
            (["--probe", "/train?epochs=1&history=0"], 0, ""),
            (["--probe", "/nope"], 1, "404"),
            (["--probe", "/train?lr=-1"], 1, "400"),
        ]
        for args, code, stderr in cases:
            with self.subTest(args=args):
                out = probe("--port", self.port, *args)
                self.assertEqual(out.returncode, code, out.stderr)
                self.assertIn(stderr, out.stderr)

    def test_address_from_flags_and_environment(self):
        # The image sets GDLAB_BIND=0.0.0.0: the probe asks loopback; flags beat the variables.
        self.assertEqual(probe("--probe", "/health",
                               env={"GDLAB_BIND": "0.0.0.0", "GDLAB_PORT": self.port}).returncode,
                         0)
        self.assertEqual(probe("--probe", "/health", "--port", self.port,
                               env={"GDLAB_PORT": "1"}).returncode, 0)
        out = probe("--probe", "/health", "--port", str(closed_port()))
        self.assertEqual(out.returncode, 1)
        self.assertIn("refused", out.stderr)

    def test_silent_server_times_out(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            start = time.monotonic()
            out = probe("--probe", "/health", "--port", str(s.getsockname()[1]))
            took = time.monotonic() - start
        self.assertEqual(out.returncode, 1)
        self.assertIn("timed out", out.stderr)
        self.assertLess(took, 20)  # hang guard only: the budget is 2 s

    def test_bad_arguments(self):
        for args, stderr in [(["--probe"], "--probe needs a value"),
                             (["--probe", "health"], "must be an absolute path"),
                             (["--probe", "/a b"], "must be an absolute path"),
                             (["--probe", "/" + "x" * 2000], "at most 1024"),
                             (["--bind", "localhost", "--probe", "/health"], "not an IPv4")]:
            with self.subTest(args=args):
                out = probe(*args)
                self.assertEqual(out.returncode, 2, out.stderr)
                self.assertIn(stderr, out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
