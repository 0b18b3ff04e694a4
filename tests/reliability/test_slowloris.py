"""500 slowloris connections (one header byte every 2 s) beside normal traffic: the normal
requests all succeed with p99 under 50 ms, and every slow connection is dropped at the server's
request timeout (given short here, --timeout 8), not before and not much after.
usage: test_slowloris.py GDLAB_BINARY
"""

import selectors
import socket
import sys
import threading
import time

import gdserver

SLOW = 500
TIMEOUT_S = 8
BYTE_EVERY_S = 2.0
# A guard against normal requests hanging behind the slow connections (which hold on for
# TIMEOUT_S), not a speed limit: their latency is printed, and speed is measured in bench/.
HANG_GUARD_MS = 5000.0
LATE_SLACK_S = 3.0  # the server looks for expired requests about once a second
SLOW_REQUEST = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"a" * 200
NORMAL = [b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
          b"GET /train?epochs=100&history=11 HTTP/1.1\r\nHost: t\r\n\r\n",
          b"GET /cross-section HTTP/1.1\r\nHost: t\r\n\r\n",
          b"GET /dataset?n=50 HTTP/1.1\r\nHost: t\r\n\r\n"]


def drip(conns, opened, dropped, stop):
    """Send the next byte of every live slow connection, spread over each interval."""
    sent = [0] * len(conns)
    while not stop.is_set():
        start = time.monotonic()
        for i, s in enumerate(conns):
            if dropped[i] is None and sent[i] < len(SLOW_REQUEST):
                try:
                    s.send(SLOW_REQUEST[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    if dropped[i] is None:
                        dropped[i] = time.monotonic() - opened[i]
        stop.wait(max(0.0, BYTE_EVERY_S - (time.monotonic() - start)))


def watch(conns, opened, dropped, stop):
    """Note when the server closes each slow connection (EOF or reset)."""
    sel = selectors.DefaultSelector()
    for i, s in enumerate(conns):
        sel.register(s, selectors.EVENT_READ, i)
    while not stop.is_set() and any(d is None for d in dropped):
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                if dropped[i] is None:
                    dropped[i] = time.monotonic() - opened[i]
                sel.unregister(key.fileobj)


def main():
    gdserver.raise_fd_limit()
    binary = sys.argv[1]
    with gdserver.Server(binary, ["--timeout", str(TIMEOUT_S), "--access-log", "off"],
                         log_path="slowloris-server.log") as srv:
        srv.wait_ready()
        conns, opened = [], []
        for _ in range(SLOW):
            s = socket.create_connection((gdserver.HOST, srv.port), timeout=5)
            s.setblocking(False)
            conns.append(s)
            opened.append(time.monotonic())
        dropped = [None] * SLOW
        stop = threading.Event()
        threads = [threading.Thread(target=f, args=(conns, opened, dropped, stop), daemon=True)
                   for f in (drip, watch)]
        for t in threads:
            t.start()

        # Normal traffic while every slow connection is held open, until just before the timeout.
        latencies, bad = [], []
        end = opened[-1] + TIMEOUT_S - 1.0
        k = 0
        while time.monotonic() < end:
            raw = NORMAL[k % len(NORMAL)]
            k += 1
            t0 = time.monotonic()
            try:
                r = gdserver.request(srv.port, raw, timeout=10)
                status = r.status if r.complete else -r.status
            except OSError as e:
                status = str(e)
            latencies.append((time.monotonic() - t0) * 1000.0)
            if status != 200:
                bad.append(status)
        early = sum(1 for d in dropped if d is not None)

        # Then wait for the slow ones to be dropped.
        give_up = time.monotonic() + TIMEOUT_S + LATE_SLACK_S + 5
        while any(d is None for d in dropped) and time.monotonic() < give_up:
            time.sleep(0.1)
        stop.set()
        for t in threads:
            t.join()
        for s in conns:
            s.close()

        failures = []
        p50 = gdserver.percentile(latencies, 50)
        p99 = gdserver.percentile(latencies, 99)
        print("normal requests: %d, failed %d, p50 %.2f ms, p99 %.2f ms, max %.2f ms"
              % (len(latencies), len(bad), p50, p99, max(latencies)))
        if len(latencies) < 100:
            failures.append("only %d normal requests got through" % len(latencies))
        if bad:
            failures.append("normal requests failed: %r" % bad[:10])
        if max(latencies) >= HANG_GUARD_MS:
            failures.append("a normal request took %.0f ms (hang guard %.0f ms)"
                            % (max(latencies), HANG_GUARD_MS))
        times = [d for d in dropped if d is not None]
        never = SLOW - len(times)
        if times:
            print("slow connections dropped: %d of %d, after %.2f s (min) %.2f s (median) "
                  "%.2f s (max); timeout %d s" % (len(times), SLOW, min(times),
                                                  gdserver.percentile(times, 50), max(times),
                                                  TIMEOUT_S))
        if early:
            failures.append("%d slow connections dropped before the timeout" % early)
        if never:
            failures.append("%d slow connections never dropped" % never)
        if times and (min(times) < TIMEOUT_S - 1.0 or max(times) > TIMEOUT_S + LATE_SLACK_S):
            failures.append("drops outside [%d - 1, %d + %.0f] s" % (TIMEOUT_S, TIMEOUT_S,
                                                                    LATE_SLACK_S))
        r = gdserver.request(srv.port, NORMAL[0])
        if r.status != 200:
            failures.append("/health after the attack answered %d" % r.status)
        if srv.terminate() != 0:
            failures.append("server did not exit 0 on SIGTERM")
    for f in failures:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
