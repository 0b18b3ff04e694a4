"""Start the real gdlab binary on a free port and talk HTTP to it (stdlib only).

The binary comes from $GDLAB_BINARY (set by CTest). The server is asked for port 0 and reports the
port it got on its first stderr line, which it writes to a log file that the tests can read.
"""
import http.client
import json
import os
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from gdlab_process import GdlabProcess  # noqa: E402

BINARY = os.environ.get("GDLAB_BINARY", "")


class Response:
    """One HTTP exchange: status, headers (lower-case names), raw body and parsed JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        ctype = headers.get("content-type", "")
        self.json = json.loads(body) if "json" in ctype and body else None

    @property
    def content_type(self):
        return self.headers.get("content-type", "")


class Server(GdlabProcess):
    """A gdlab process; use as a context manager. extra_args go on its command line."""

    def __init__(self, *extra_args, env=None):
        if not BINARY:
            raise unittest.SkipTest("GDLAB_BINARY is not set")
        super().__init__(BINARY, extra_args, env=env)

    def __enter__(self):
        self.start()
        while self.get("/health").status != 200:
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.finish(exc[0])

    def connection(self, timeout=120):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return Response(r.status, hdrs, data)
        finally:
            if own:
                conn.close()

    def get(self, path, params=None, headers=None, conn=None):
        if params:
            path += "?" + urllib.parse.urlencode(
                {k: ",".join(map(repr_num, v)) if isinstance(v, (list, tuple)) else
                 repr_num(v) for k, v in params.items()})
        return self.request("GET", path, headers=headers, conn=conn)

    def post(self, path, params=None, raw=None, content_type="application/json", conn=None):
        body = raw if raw is not None else json.dumps(params or {}).encode()
        headers = {"Content-Type": content_type} if content_type else {}
        return self.request("POST", path, body=body, headers=headers, conn=conn)


def repr_num(v):
    """A query-string value: Python's repr of a float round-trips exactly."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return repr(v) if isinstance(v, float) else str(v)
