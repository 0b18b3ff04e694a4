"""valgrind memcheck over API traffic: the server runs under memcheck through the hostile table
and a sweep of every endpoint by GET and POST (answers and errors), then SIGTERM; then again
through the bounds (a request past --deadline, long requests past --threads 1 --queue 0). memcheck
must report zero errors and zero leaks (definite, indirect or possible) in both runs.
usage: test_memcheck.py GDLAB_BINARY VALGRIND HOSTILE_TABLE
"""

import re
import sys
import threading

import gdserver
import test_fairness
import test_hostile

SWEEP = [
    b"GET / HTTP/1.1\r\nHost: t\r\nAccept: application/json\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /dataset?scaler=standard HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /dataset?n=7&scaler=minmax&x_multiplier=10 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /surface?b_steps=11&w_steps=13&split=val HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /cross-section?b=0.49&w=-0.13 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /train?lr=0.2,0.8,1.1&epochs=300&history=7 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /train?lr=0.1&tol=0.001&history=0 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /scale?x_multiplier=10 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"HEAD /train HTTP/1.1\r\nHost: t\r\n\r\n",
    b"OPTIONS /train HTTP/1.1\r\nHost: t\r\n\r\n",
    # long enough for the offload pool: suspended, computed on a pool thread, resumed
    b"GET /surface?b_steps=300&w_steps=300 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /train?epochs=200000&lr=1e-9,0.2,1.1&history=50 HTTP/1.1\r\nHost: t\r\n\r\n",
    b"GET /dataset?n=100000&scaler=minmax HTTP/1.1\r\nHost: t\r\n\r\n",
    # twice: the second answer may come from the response cache
    b"GET /scale?x_multiplier=10 HTTP/1.1\r\nHost: t\r\n\r\n",
]
POSTS = [
    (b"/dataset", b'{"x": [1, 2, 3, 4], "y": [3, 5, 7, 9.5], "scaler": "standard"}'),
    (b"/surface", b'{"b_steps": 5, "w_steps": 6, "b_min": -1, "b_max": 1}'),
    (b"/cross-section", b'{"b": 1, "w": 2, "snap": false, "delta": 0.3}'),
    (b"/train", b'{"lr": [0.2, 0.8, 1.1], "epochs": 100, "history": 5}'),
    (b"/scale", b'{"x_multiplier": 10, "scaler": "minmax"}'),
]


# Bounded work, under memcheck: the fairness test's long /train past its deadline (cancelled
# mid-train, or before it starts while valgrind slows everything), and long requests beyond
# --threads 1 --queue 0 (refused).
HEAVY = b"GET /surface?b_steps=1000&w_steps=%d HTTP/1.1\r\nHost: t\r\n\r\n"
BOUNDS_ARGS = ["--deadline", "0.3", "--threads", "1", "--queue", "0", "--response-cache", "0"]


def wrapper_for(valgrind, log):
    return [valgrind, "--tool=memcheck", "--leak-check=full", "--show-leak-kinds=all",
            "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99",
            "--track-origins=yes", "--log-file=" + log]


def report_of(log, code, what, failures):
    with open(log, errors="replace") as f:
        report = f.read()
    summary = re.search(r"ERROR SUMMARY: (\d+) errors", report)
    leaks = {k: int(v.replace(",", "")) for k, v in
             re.findall(r"(definitely|indirectly|possibly) lost: ([\d,]+) bytes", report)}
    print("memcheck (%s): %s; definitely lost %d, indirectly lost %d, possibly lost %d bytes; "
          "exit status %s" % (what, summary.group(0) if summary else "no summary",
                              leaks.get("definitely", 0), leaks.get("indirectly", 0),
                              leaks.get("possibly", 0), code))
    if not summary or int(summary.group(1)) != 0 or any(leaks.values()) or code != 0:
        failures.append("memcheck found problems in %s (exit %s):\n%s"
                        % (what, code, report[-6000:]))


def bounds(binary, valgrind, failures):
    log = "memcheck-bounds-valgrind.log"
    with gdserver.Server(binary, BOUNDS_ARGS + ["--access-log", "off"],
                         wrapper=wrapper_for(valgrind, log),
                         log_path="memcheck-bounds-server.log") as srv:
        srv.wait_ready(120)
        # alone first, so that the one compute slot is free for it
        late = gdserver.request(srv.port, test_fairness.LONG_TRAIN, timeout=120)
        answers = []

        def send(raw):
            answers.append(gdserver.request(srv.port, raw, timeout=120))

        threads = [threading.Thread(target=send, args=(HEAVY % (900 + k),)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        kinds = sorted("%d %s" % (r.status, gdserver.problem_type(r)) for r in answers)
        print("bounds: the long /train %d %s; three concurrent surfaces %s"
              % (late.status, gdserver.problem_type(late), kinds))
        if late.status != 503 or gdserver.problem_type(late) != "/problems/deadline-exceeded":
            failures.append("the long /train did not end at its deadline: %r" % late)
        if any(r.status not in (200, 503) or not r.complete for r in answers):
            failures.append("bounded requests answered %s" % kinds)
        code = srv.terminate(120)
    report_of(log, code, "deadline and queue", failures)


def main():
    binary, valgrind, table = sys.argv[1], sys.argv[2], sys.argv[3]
    log = "memcheck-valgrind.log"
    requests = list(SWEEP)
    for path, body in POSTS:
        requests.append(b"POST " + path + b" HTTP/1.1\r\nHost: t\r\nContent-Type: application/json"
                        b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    args, cases = test_hostile.load_table(table)
    failures = []
    with gdserver.Server(binary, args + ["--access-log", "off"],
                         wrapper=wrapper_for(valgrind, log),
                         log_path="memcheck-server.log") as srv:
        srv.wait_ready(120)
        for raw in requests:
            r = gdserver.request(srv.port, raw, timeout=120)
            if r.status not in (200, 204) or not r.complete:
                failures.append("%r answered %r" % (raw[:60], r))
        for lineno, name, status, flags, raw in cases:
            errors, r = test_hostile.check_case(srv.port, name, status, flags, raw, timeout=60)
            if errors:
                failures.append("%s: %s" % (name, "; ".join(errors)))
        code = srv.terminate(120)
    report_of(log, code, "sweep and hostile table", failures)
    print("requests: %d endpoint sweep, %d hostile" % (len(requests), len(cases)))
    bounds(binary, valgrind, failures)
    for f in failures:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
