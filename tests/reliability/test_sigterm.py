"""SIGTERM under load: every request the server had accepted gets its whole answer, new
connections are refused, and the process exits 0 within the grace period.
usage: test_sigterm.py GDLAB_BINARY

A kept-alive connection sees /ready turn 503 after the signal (when the server has /ready).
Twelve clients keep requests going on keep-alive connections (a new connection whenever the
server closes one); one more has a long /train in flight when the signal arrives. A request sent
before the signal must complete with 200. One sent after it may instead find its connection
closed without a byte of answer (refused), but never a cut-off answer.

Then a request longer than the grace: with --shutdown-grace 1 and no deadline, a /train of
1.6e9 epochs (many seconds) is in flight at the signal; it must end with a whole 503
`deadline-exceeded` answer and the process must exit 0 within the grace.
"""

import json
import signal
import socket
import sys
import threading
import time

import gdserver

CLIENTS = 12
GRACE_S = 30
REQUESTS = [b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /train?epochs=200000&lr=0.1,0.2,0.3 HTTP/1.1\r\nHost: t\r\n\r\n",
            b"GET /surface?b_steps=201&w_steps=201 HTTP/1.1\r\nHost: t\r\n\r\n",
            b"POST /scale HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Content-Length: 20\r\n\r\n{\"x_multiplier\": 10}"]
# Tiny learning rates never reach a fixed point: every epoch is computed, on a worker.
READY = b"GET /ready HTTP/1.1\r\nHost: t\r\n\r\n"
# 8 tiny learning rates x 1e8 epochs, every one computed: seconds, so that the server is still
# draining it when the test probes /ready and new connections after the signal (with 4 x 1e7
# epochs a fast machine answered it before the probe, and the server had already exited).
LONG = (b"GET /train?epochs=100000000&history=0&lr=" +
        b",".join(b"%de-9" % k for k in range(1, 9)) + b" HTTP/1.1\r\nHost: t\r\n\r\n")


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = self.refused = 0
        self.problems = []

    def add(self, sent_at, term_at, r, err=None):
        with self.lock:
            if r is not None and r.status == 200 and r.complete:
                self.ok += 1
            elif term_at is not None and sent_at > term_at and r is not None and r.status == 0:
                self.refused += 1  # closed unanswered after the signal: not accepted
            else:
                self.problems.append("sent %.3f s %s the signal: %r %s"
                                     % (abs(sent_at - (term_at or sent_at)),
                                        "after" if term_at and sent_at > term_at else "before",
                                        r, err or ""))


def client(port, k, state, tally):
    sock = reader = None
    n = 0
    while not state["done"]:
        if sock is None:
            try:
                sock = socket.create_connection((gdserver.HOST, port), timeout=30)
                reader = gdserver.Reader(sock)
            except OSError:
                if state["term_at"] is None:
                    tally.add(time.monotonic(), None, None, "connect failed before the signal")
                return  # refused: the server no longer accepts
        raw = REQUESTS[(k + n) % len(REQUESTS)]
        n += 1
        sent_at = time.monotonic()
        r, err = None, None
        try:
            sock.sendall(raw)
            r = gdserver.read_response(reader)
        except OSError as e:
            err = e
            r = gdserver.Response()
        tally.add(sent_at, state["term_at"], r, err)
        if r.status == 0 or r.header("connection").lower() == "close" or not r.complete:
            sock.close()
            sock = None
        if state["term_at"] is not None and time.monotonic() - state["term_at"] > GRACE_S:
            break
    if sock:
        sock.close()


# 16 tiny learning rates x 1e8 epochs, every one computed: many seconds
ENDLESS = (b"GET /train?epochs=100000000&history=0&lr=" +
           b",".join(b"%de-10" % k for k in range(1, 17)) + b" HTTP/1.1\r\nHost: t\r\n\r\n")


def abandon(binary, failures):
    with gdserver.Server(binary, ["--shutdown-grace", "1", "--deadline", "0",
                                  "--max-epochs", "100000000", "--access-log", "off"],
                         log_path="sigterm-abandon-server.log") as srv:
        srv.wait_ready()
        result = {}

        def endless():
            try:
                result["r"] = gdserver.request(srv.port, ENDLESS, timeout=60)
            except OSError as e:
                result["err"] = e

        t = threading.Thread(target=endless)
        t.start()
        time.sleep(0.5)
        term_at = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        try:
            code = srv.proc.wait(10)
        except Exception:
            code = None
        took = time.monotonic() - term_at
        t.join()
        r = result.get("r")
        detail = ""
        if r is not None and r.status == 503:
            detail = json.loads(r.body).get("detail", "")
        print("a request longer than --shutdown-grace 1: %r (%s); exit %s after %.2f s"
              % (r, detail or result.get("err", ""), code, took))
        if r is None or r.status != 503 or not r.complete or "--shutdown-grace 1" not in detail:
            failures.append("the abandoned request did not get a whole 503 naming the grace: %r"
                            % r)
        if code != 0 or took > 1.5:
            failures.append("exit status %s after %.2f s with a grace of 1 s" % (code, took))


def main():
    binary = sys.argv[1]
    with gdserver.Server(binary, ["--shutdown-grace", str(GRACE_S), "--deadline", "0",
                                  "--max-epochs", "100000000", "--access-log", "off"],
                         log_path="sigterm-server.log") as srv:
        srv.wait_ready()
        tally = Tally()
        state = {"term_at": None, "done": False}
        threads = [threading.Thread(target=client, args=(srv.port, k, state, tally))
                   for k in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(2.0)

        long_result = {}

        def long_request():
            sent_at = time.monotonic()
            try:
                long_result["r"] = gdserver.request(srv.port, LONG, timeout=60)
            except OSError as e:
                long_result["err"] = e
            long_result["sent_at"] = sent_at

        lt = threading.Thread(target=long_request)
        lt.start()
        # a keep-alive connection that asks /ready before and after the signal
        probe = socket.create_connection((gdserver.HOST, srv.port), timeout=30)
        probe_reader = gdserver.Reader(probe)
        probe.sendall(READY)
        ready_before = gdserver.read_response(probe_reader).status
        time.sleep(0.3)
        state["term_at"] = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        try:
            probe.sendall(READY)
            ready_after = gdserver.read_response(probe_reader)
        except OSError as e:
            ready_after = e
        probe.close()

        # New connections must be refused soon after the signal.
        refused_new = False
        while srv.alive() and time.monotonic() - state["term_at"] < GRACE_S + 5:
            try:
                with socket.create_connection((gdserver.HOST, srv.port), timeout=1) as s:
                    s.sendall(REQUESTS[0])
                    r = gdserver.read_response(gdserver.Reader(s))
                    if r.status == 0:
                        refused_new = True
            except OSError:
                refused_new = True
            if refused_new:
                break
            time.sleep(0.05)
        try:
            code = srv.proc.wait(GRACE_S + 5)
        except Exception:
            code = None
        exit_after = time.monotonic() - state["term_at"]
        state["done"] = True
        for t in threads + [lt]:
            t.join()

    failures = list(tally.problems)
    lr = long_result.get("r")
    print("requests answered 200: %d; refused after the signal: %d; cut off: %d"
          % (tally.ok, tally.refused, len(tally.problems)))
    print("long request in flight at the signal: %r; exit status %s after %.2f s (grace %d s)"
          % (lr, code, exit_after, GRACE_S))
    print("/ready on a kept-alive connection: %s before the signal, %r after"
          % (ready_before, ready_after))
    if ready_before == 200 and (not isinstance(ready_after, gdserver.Response)
                                or ready_after.status != 503):
        failures.append("/ready did not turn 503 after the signal: %r" % ready_after)
    if lr is None or lr.status != 200 or not lr.complete:
        failures.append("the long request in flight was not answered: %r %s"
                        % (lr, long_result.get("err", "")))
    if code != 0:
        failures.append("exit status %s" % code)
    if exit_after > GRACE_S + 1:
        failures.append("exit took %.2f s, grace %d s" % (exit_after, GRACE_S))
    if not refused_new:
        failures.append("new connections were still served after the signal")
    if tally.ok < 50:
        failures.append("too little load: %d requests" % tally.ok)
    abandon(binary, failures)
    for f in failures[:20]:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
