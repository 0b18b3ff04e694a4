"""The soak: wrk at 256 connections mixing every endpoint (soak.lua) for SECONDS (60 in the
suite): zero socket errors, zero 5xx, and the server's RSS at the end within 10% of its RSS after
a warm-up run, both read a few seconds after the load stops. usage: test_soak.py GDLAB_BINARY SOAK_LUA SECONDS
"""

import os
import re
import shutil
import subprocess
import sys
import threading
import time

import gdserver

CONNECTIONS = 256
WARMUP_S = 10
SETTLE_S = 6  # both RSS readings are taken this long after the load stops, idle alike
RSS_GROWTH_LIMIT = 0.10


def wrk(port, lua, seconds):
    out = subprocess.run(["wrk", "-t2", "-c%d" % CONNECTIONS, "-d%ds" % seconds, "--timeout", "30s",
                          "-s", lua, "http://%s:%d/" % (gdserver.HOST, port)],
                         capture_output=True, text=True, timeout=seconds + 120)
    print(out.stdout.rstrip())
    if out.returncode != 0:
        gdserver.fail("wrk exited %d: %s" % (out.returncode, out.stderr))
    m = re.search(r"soak: 2xx (\d+), 404 (\d+), 5xx (\d+), other (\d+)", out.stdout)
    e = re.search(r"socket errors connect (\d+), read (\d+), write (\d+), timeout (\d+)", out.stdout)
    if not m or not e:
        gdserver.fail("no summary from soak.lua")
    return [int(x) for x in m.groups()], [int(x) for x in e.groups()]


def thread_states(pid):
    """Each server thread's name, scheduler state, CPU ticks and kernel wait channel: printed when
    the soak fails, so that a stalled thread shows where it waited."""
    out = []
    try:
        tids = sorted(os.listdir("/proc/%d/task" % pid), key=int)
    except OSError:
        return "gone"
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "stat") as f:
                stat = f.read()
            with open(base + "wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out.append("%s:%s:%s:%s+%s:%s" % (tid, name, fields[0], fields[11], fields[12], wchan))
    return " ".join(out)


def main():
    binary, lua, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if not shutil.which("wrk"):
        gdserver.fail("wrk not installed (scripts/debian-packages.txt lists it)")
    gdserver.raise_fd_limit()
    failures = []
    with gdserver.Server(binary, ["--access-log", "off"], log_path="soak-server.log") as srv:
        srv.wait_ready()
        print("warm-up: %d s" % WARMUP_S)
        wrk(srv.port, lua, WARMUP_S)
        time.sleep(SETTLE_S)
        rss_warm = srv.rss_kib()
        samples = []
        states = []
        stop = threading.Event()

        def sample():
            t0 = time.monotonic()
            while not stop.wait(1.0):
                if srv.alive():
                    samples.append(srv.rss_kib())
                    states.append("%5.1f s %s" % (time.monotonic() - t0,
                                                  thread_states(srv.proc.pid)))

        sampler = threading.Thread(target=sample)
        sampler.start()
        print("soak: %d s at %d connections" % (seconds, CONNECTIONS))
        (ok, n404, n5xx, other), (econn, eread, ewrite, etimeout) = wrk(srv.port, lua, seconds)
        stop.set()
        sampler.join()
        time.sleep(SETTLE_S)
        rss_end = srv.rss_kib()
        growth = (rss_end - rss_warm) / float(rss_warm)
        print("rss: %d KiB after warm-up, %d KiB at the end (%+.1f%%), peak %d KiB"
              % (rss_warm, rss_end, 100 * growth, max(samples + [rss_end])))
        errors = econn + eread + ewrite + etimeout
        print("socket errors: %d; 5xx: %d; other non-2xx (not 404): %d; answered: %d"
              % (errors, n5xx, other, ok + n404 + n5xx + other))
        if errors:
            failures.append("%d socket errors" % errors)
        if n5xx:
            failures.append("%d answers 5xx" % n5xx)
        if other:
            failures.append("%d unexpected statuses" % other)
        if growth > RSS_GROWTH_LIMIT:
            failures.append("RSS grew %.1f%% > %.0f%%" % (100 * growth, 100 * RSS_GROWTH_LIMIT))
        if not srv.alive():
            failures.append("the server died")
        elif srv.terminate() != 0:
            failures.append("server did not exit 0 on SIGTERM")
    if failures:
        print("server threads each second of the soak (tid:name:state:utime+stime:wchan):")
        print("\n".join(states))
    for f in failures:
        print("FAIL: " + f)
    print("%d passed, %d failed" % (0 if failures else 1, 1 if failures else 0))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
