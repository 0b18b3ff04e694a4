"""The real gdlab binary on a free loopback port, and raw-socket HTTP for the reliability tests.

Everything here talks to 127.0.0.1 only. Requests go out as the exact bytes given, so that
smuggling shapes reach the server unmodified; responses are parsed just enough to know their
status, headers, body and whether the server closed the connection after them.
"""

import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"


def raise_fd_limit():
    """Hundreds of client sockets need more than the usual 1024 descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


class Server:
    """One gdlab process: started on a free port, waited for, measured and stopped."""

    def __init__(self, binary, args=(), wrapper=(), log_path=None, env=None):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb") if log_path else subprocess.DEVNULL
        cmd = list(wrapper) + [binary, "--bind", HOST, "--port", str(self.port)] + list(args)
        self.cmd = cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, env=env)

    def wait_ready(self, timeout=30.0):
        """Poll /health until it answers 200; fail when the process dies or time runs out."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                fail("server exited with %d before it was ready: %s\n%s"
                     % (self.proc.returncode, " ".join(self.cmd), self.log_tail()))
            try:
                r = request(self.port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", timeout=2)
                if r.status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        fail("server not ready after %.0f s: %s" % (timeout, " ".join(self.cmd)))

    def alive(self):
        return self.proc.poll() is None

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def terminate(self, timeout=30.0):
        """SIGTERM and wait; returns the exit code (None if it had to be killed)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return None
        return self.proc.returncode

    def log_tail(self, n=4000):
        if not self.log_path:
            return ""
        try:
            self.log.flush()
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode("utf-8", "replace")
        except OSError:
            return ""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()


class Response:
    def __init__(self):
        self.status = 0  # 0: the server closed or reset without answering
        self.headers = {}  # lower-case name -> last value
        self.body = b""
        self.closed = False  # the server closed the connection after answering
        self.complete = False  # the whole body as framed arrived

    def header(self, name, default=""):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<%d %s %d bytes%s>" % (self.status, self.header("content-type"), len(self.body),
                                       " closed" if self.closed else "")


class Reader:
    """Buffered reads from a socket, tolerant of resets."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = bytearray()
        self.eof = False

    def fill(self):
        if self.eof:
            return False
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data  # a bytearray: amortised, not quadratic, for big answers
        return True

    def until(self, sep):
        start = 0
        while True:
            k = self.buf.find(sep, start)
            if k >= 0:
                break
            start = max(0, len(self.buf) - len(sep) + 1)
            if not self.fill():
                return None
        head = bytes(self.buf[:k])
        del self.buf[:k + len(sep)]
        return head

    def exactly(self, n):
        while len(self.buf) < n:
            if not self.fill():
                return None
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out


def read_response(reader, head_request=False):
    """One response from reader; status 0 when the connection ended first."""
    r = Response()
    head = reader.until(b"\r\n\r\n")
    if head is None:
        r.closed = True
        return r
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    try:
        r.status = int(parts[1])
    except (IndexError, ValueError):
        r.status = -1  # not HTTP at all
        return r
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        r.headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    if head_request or r.status in (204, 304) or 100 <= r.status < 200:
        r.complete = True
        return r
    if r.header("transfer-encoding").lower() == "chunked":
        body = b""
        while True:
            size_line = reader.until(b"\r\n")
            if size_line is None:
                r.body = body
                return r
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                reader.until(b"\r\n")
                break
            chunk = reader.exactly(size + 2)
            if chunk is None:
                r.body = body
                return r
            body += chunk[:-2]
        r.body = body
        r.complete = True
    elif "content-length" in r.headers:
        n = int(r.header("content-length"))
        body = reader.exactly(n)
        r.body = body if body is not None else bytes(reader.buf)
        r.complete = body is not None
    else:
        while reader.fill():
            pass
        r.body = bytes(reader.buf)
        reader.buf = bytearray()
        r.complete = True
    return r


def request(port, data, timeout=10.0, check_close=False, close_wait=1.0):
    """Send raw bytes on a fresh connection and read one response.

    With check_close, wait up to close_wait seconds after the response to see whether the server
    closes the connection (Response.closed)."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before it has read everything
        reader = Reader(s)
        r = read_response(reader, head_request=data.startswith(b"HEAD "))
        if check_close and not r.closed:
            if reader.buf:
                return r  # more bytes: a second response, so certainly not closed
            s.settimeout(close_wait)
            try:
                r.closed = not reader.fill()
            except socket.timeout:
                r.closed = False
        return r


def problem_type(r):
    """The type of a problem+json answer ("/problems/overloaded"), "" for any other body."""
    try:
        return json.loads(r.body).get("type", "")
    except (ValueError, AttributeError):
        return ""


def percentile(values, p):
    """The p-th percentile (nearest rank) of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]
