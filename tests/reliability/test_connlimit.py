"""The connection limit and the idle timeout. With --max-connections 20 and twenty idle
connections held, a twenty-first is not served (libmicrohttpd leaves it in the listen backlog)
until one of them goes; the held connections are closed at --timeout, and then the waiting one is
answered. usage: test_connlimit.py GDLAB_BINARY
"""

import socket
import sys
import time

import gdserver

LIMIT = 20
TIMEOUT_S = 3
HEALTH = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"


def main():
    failures = []
    args = ["--max-connections", str(LIMIT), "--timeout", str(TIMEOUT_S), "--access-log", "off"]
    with gdserver.Server(sys.argv[1], args, log_path="connlimit-server.log") as srv:
        srv.wait_ready()
        time.sleep(0.2)  # the readiness probe's connection is gone
        t0 = time.monotonic()
        held = [socket.create_connection((gdserver.HOST, srv.port)) for _ in range(LIMIT)]
        time.sleep(0.3)
        extra = socket.create_connection((gdserver.HOST, srv.port))
        extra.sendall(HEALTH)
        extra.settimeout(0.5)
        try:
            early = extra.recv(100)
        except socket.timeout:
            early = None
        if early is not None:
            failures.append("a connection past --max-connections was served at once: %r"
                            % early[:40])
        # the held connections are idle: closed at the timeout, then the extra one is answered
        extra.settimeout(TIMEOUT_S + 5)
        r = gdserver.read_response(gdserver.Reader(extra))
        served_after = time.monotonic() - t0
        dropped = []
        for s in held:
            s.settimeout(TIMEOUT_S + 5)
            try:
                data = s.recv(100)
            except OSError:
                data = b""
            dropped.append(time.monotonic() - t0)
            if data:
                failures.append("an idle connection got %r" % data[:40])
            s.close()
        extra.close()
        print("connection %d of %d: %r after %.2f s; idle connections closed by %.2f s "
              "(timeout %d s)" % (LIMIT + 1, LIMIT, r, served_after, max(dropped), TIMEOUT_S))
        if r.status != 200:
            failures.append("the waiting connection was not served once room was made: %r" % r)
        if served_after < TIMEOUT_S - 0.5:
            failures.append("the waiting connection was served before the limit freed up")
        if max(dropped) > TIMEOUT_S + 2:
            failures.append("idle connections lived %.2f s with a %d s timeout"
                            % (max(dropped), TIMEOUT_S))
        r = gdserver.request(srv.port, HEALTH)
        if r.status != 200:
            failures.append("/health afterwards answered %r" % r)
        if srv.terminate() != 0:
            failures.append("server did not exit 0 on SIGTERM")
    for f in failures:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
