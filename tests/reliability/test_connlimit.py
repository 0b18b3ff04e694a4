"""At and past --max-connections: degrade like nginx, never go deaf.

1. idle: LIMIT + 10 % clients each get one answer and keep their connection open, idle; then a
   new client is answered at once (gdlab closes the longest idle connections to make room), long
   before the --timeout that used to be the only way out.
2. burst: a burst of 1.5 x the limit busy keep-alive clients (wrk when installed), with the limit
   set so that each of libmicrohttpd's two threads holds 128 connections, the shape that made
   libmicrohttpd's epoll loop sleep on ready work until the idle timeout (src/http/epoll_tick.c);
   afterwards a new request is answered at once.
3. in progress: at the limit, with a POST body half uploaded, a request head half sent and a long
   /train computing, more new clients arrive than there are idle connections. The idle ones are
   closed for them, the requests in progress are not: each completes with its answer.

Every wait has a hang guard far below the 15 s idle timeout; nothing times speed.
usage: test_connlimit.py GDLAB_BINARY
"""

import shutil
import socket
import subprocess
import sys
import threading
import time

import gdserver

HEALTH = b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n"
GUARD_S = 3.0  # hang guard for one answer; the idle timeout is 15 s
failures = []


def check(ok, msg):
    if not ok:
        failures.append(msg)
        print("FAIL: " + msg, flush=True)


def connect(port):
    s = socket.create_connection((gdserver.HOST, port), timeout=GUARD_S)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def answer(sock):
    """The next response on sock, status 0 when none came within the guard."""
    sock.settimeout(GUARD_S)
    try:
        return gdserver.read_response(gdserver.Reader(sock))
    except OSError:
        return gdserver.Response()


def closed_quietly(sock):
    """True when the server has closed sock without sending anything; False if it is open."""
    sock.setblocking(False)
    try:
        data = sock.recv(100)
    except BlockingIOError:
        return False
    except OSError:
        return True
    check(not data, "an idle connection got bytes it did not ask for: %r" % data[:40])
    return not data


def open_idle(port, n):
    """n connections, each answered once and then left idle (all sent before any is read)."""
    socks = [connect(port) for _ in range(n)]
    for s in socks:
        s.sendall(HEALTH)
    statuses = [answer(s).status for s in socks]
    check(statuses.count(200) == n, "%d of %d idle clients answered: %r"
          % (statuses.count(200), n, sorted(set(statuses))))
    return socks


def idle_then_new(binary):
    limit = 40
    args = ["--max-connections", str(limit), "--access-log", "off"]
    with gdserver.Server(binary, args, log_path="connlimit-idle.log") as srv:
        srv.wait_ready()
        time.sleep(0.2)  # the readiness probe's connection is gone
        t0 = time.monotonic()
        held = open_idle(srv.port, limit + limit // 10)
        time.sleep(0.3)
        new = connect(srv.port)
        new.sendall(HEALTH)
        r = answer(new)
        took = time.monotonic() - t0
        check(r.status == 200, "a new client past %d idle connections got %r" % (limit, r))
        time.sleep(0.3)  # the shut connections are closed
        closed = sum(closed_quietly(s) for s in held)
        print("idle: %d idle keep-alive connections at --max-connections %d: %d closed to make "
              "room; the new client %r, %.2f s from the first connection"
              % (len(held), limit, closed, r, took), flush=True)
        check(closed >= limit // 10 + 1, "only %d idle connections were closed for %d newcomers"
              % (closed, limit // 10 + 1))
        for s in held + [new]:
            s.close()
        check(srv.terminate() == 0, "server did not exit 0 on SIGTERM")


def python_burst(port, conns, seconds):
    """conns keep-alive clients asking /health back to back for seconds (without wrk)."""
    stop = time.monotonic() + seconds

    def client():
        try:
            s = connect(port)
            while time.monotonic() < stop:
                s.sendall(HEALTH)
                if answer(s).status != 200:
                    return
            s.close()
        except OSError:
            pass

    threads = [threading.Thread(target=client) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 10)


def burst_then_new(binary):
    limit = 256  # 128 per libmicrohttpd thread: its MAX_EVENTS
    conns = limit * 3 // 2
    args = ["--max-connections", str(limit), "--threads", "2", "--access-log", "off"]
    with gdserver.Server(binary, args, log_path="connlimit-burst.log") as srv:
        srv.wait_ready()
        url = "http://%s:%d/health" % (gdserver.HOST, srv.port)
        how = "wrk" if shutil.which("wrk") else "python"
        for _ in range(2):  # the stall came in some bursts, not all
            if how == "wrk":
                out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d2s", "--timeout", "2s", url],
                                     capture_output=True, text=True, timeout=60)
                total = [line.strip() for line in out.stdout.splitlines() if "requests in" in line]
            else:
                python_burst(srv.port, conns, 2)
                total = []
            t0 = time.monotonic()
            try:
                r = gdserver.request(srv.port, HEALTH, timeout=GUARD_S)
            except OSError:  # socket.timeout included: deaf
                r = gdserver.Response()
            took = time.monotonic() - t0
            print("burst: %d clients (%s) at --max-connections %d %s; then a new request: %r "
                  "in %.3f s" % (conns, how, limit, total, r, took), flush=True)
            check(r.status == 200, "after a burst of %d clients a new request got %r" % (conns, r))
        check(srv.terminate() == 0, "server did not exit 0 on SIGTERM")


def in_progress_kept(binary):
    limit = 20
    args = ["--max-connections", str(limit), "--access-log", "off"]
    with gdserver.Server(binary, args, log_path="connlimit-progress.log") as srv:
        srv.wait_ready()
        time.sleep(0.2)
        body = b'{"x_multiplier": 10}'
        upload = connect(srv.port)  # a POST whose body is half sent
        upload.sendall(b"POST /scale HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body[:8])
        head = connect(srv.port)  # a request head half sent
        head.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
        train = connect(srv.port)  # a long request computing
        train.sendall(b"GET /train?epochs=3000000&lr=1e-9&history=0 HTTP/1.1\r\nHost: t\r\n\r\n")
        idle = open_idle(srv.port, limit - 3)
        time.sleep(0.6)  # all idle longer than gdlab's 500 ms
        newcomers = [connect(srv.port) for _ in range(limit + 5)]
        for s in newcomers:
            s.sendall(HEALTH)
        statuses = [answer(s).status for s in newcomers]
        check(statuses.count(200) == len(newcomers), "%d of %d newcomers answered: %r"
              % (statuses.count(200), len(newcomers), sorted(set(statuses))))
        time.sleep(0.3)
        closed = sum(closed_quietly(s) for s in idle)
        check(closed == len(idle), "%d of %d idle connections were closed for %d newcomers"
              % (closed, len(idle), len(newcomers)))
        upload.sendall(body[8:])
        head.sendall(b"\r\n")
        results = {"POST body mid-upload": answer(upload), "request head mid-way": answer(head),
                   "/train computing": answer(train)}
        print("in progress: %d newcomers at --max-connections %d answered %r; idle connections "
              "closed %d of %d; requests in progress: %r"
              % (len(newcomers), limit, sorted(set(statuses)), closed, len(idle), results),
              flush=True)
        for what, r in results.items():
            check(r.status == 200 and r.complete, "the %s was cut: %r" % (what, r))
        for s in idle + newcomers + [upload, head, train]:
            s.close()
        check(srv.terminate() == 0, "server did not exit 0 on SIGTERM")


def main():
    gdserver.raise_fd_limit()
    for case in (idle_then_new, burst_then_new, in_progress_kept):
        case(sys.argv[1])
    print("%d passed, %d failed" % (0 if failures else 3, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
