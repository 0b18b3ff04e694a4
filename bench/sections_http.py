"""Sections of bench/bench.py on the HTTP server itself: the ceiling against bare libmicrohttpd,
/health while large surfaces are served, and the connection limit against bare and nginx.
"""

import os
import re
import resource
import selectors
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

from bench_common import Server, curl, curl_ok, free_port, log, median, spread, wrk
from sections_compute import LARGE


# --- 1. the HTTP ceiling ------------------------------------------------------------------------

# Uncached answers: each request a new seed (distinct_seeds.lua), so that none comes from gdlab's
# response cache; (name, wrk script argument, the bare server it is measured against).
DISTINCT = [("train_h0_distinct", "/train?history=0&", "bare"),
            ("surface_distinct", "/surface?", "bare_surface"),
            ("train_history_distinct", "/train?history=1001&", "bare")]


def bench_ceiling(cfg, gdlab_argv, bare_argv):
    gd = Server(gdlab_argv, "gdlab", "/health")
    bare = bare_surface = None
    try:
        # the bare server's large variant answers a fixed body as long as /surface's default answer
        _, surface_bytes = curl_ok(gd.url + "/surface?seed=1")
        bare = Server(bare_argv, "bare_server", "/")
        bare_surface = Server(bare_argv + ["--body-bytes", str(surface_bytes)], "bare_server", "/")
        targets = [("bare", bare.url + "/", None, (), bare),
                   ("bare_surface", bare_surface.url + "/", None, (), bare_surface),
                   ("health", gd.url + "/health", None, (), gd),
                   ("train_h0", gd.url + "/train?history=0", None, (), gd)]
        targets += [(name, gd.url + "/", "distinct_seeds.lua", (prefix,), gd)
                    for name, prefix, _ in DISTINCT]
        runs = {name: [] for name, *_ in targets}
        for name, url, script, args, _ in targets:  # warm up: connections, caches, pool threads
            wrk(url, 1, script=script, script_args=args)
        for rnd in range(cfg["rounds"]):
            for name, url, script, args, srv in targets:  # interleaved: drift hits all alike
                cpu0 = srv.cpu_seconds()
                res = wrk(url, cfg["wrk_seconds"], script=script, script_args=args)
                # the server's own CPU per request: what the noise of a shared machine moves least
                res["server_cpu_us"] = (srv.cpu_seconds() - cpu0) / max(res["requests"], 1) * 1e6
                runs[name].append(res)
                log(f"  round {rnd + 1} {name:22s} {res['rps']:10.0f} req/s  "
                    f"p99 {res['p99_ms']:.2f} ms  errors {res['errors']}")
    finally:
        for srv in (gd, bare, bare_surface):
            if srv:
                srv.stop()
    out = {"surface_bytes": surface_bytes}
    for name, rs in runs.items():
        out[name] = {"rps": median([r["rps"] for r in rs]),
                     "p99_ms": median([r["p99_ms"] for r in rs]),
                     "rps_spread": spread([r["rps"] for r in rs]),
                     "server_cpu_us": median([r["server_cpu_us"] for r in rs]),
                     "errors": sum(r["errors"] for r in rs), "runs": rs}
    against = {"health": "bare", "train_h0": "bare"}
    against.update({name: ref for name, _, ref in DISTINCT})
    for name, ref in against.items():
        out[name]["against"] = ref
        out[name]["ratio"] = out[name]["rps"] / out[ref]["rps"]
        out[name]["ratio_per_round"] = [g["rps"] / b["rps"] for g, b in zip(runs[name], runs[ref])]
    # the uncached answer against the cached one, for the response cache's keep-or-remove decision
    out["train_h0_distinct"]["vs_cached"] = out["train_h0_distinct"]["rps"] / out["train_h0"]["rps"]
    return out


# --- 4. /health while large surfaces are served -----------------------------------------------------

def bench_health_under_load(cfg, gdlab_argv):
    path = LARGE[0][1]
    runs = []
    for _ in range(cfg["load_reps"]):
        gd = Server(gdlab_argv, "gdlab", "/health")
        stop = threading.Event()
        served = [0] * cfg["load_clients"]

        def hammer(k):
            while not stop.is_set():
                curl_ok(gd.url + path)
                served[k] += 1

        workers = [threading.Thread(target=hammer, args=(k,)) for k in range(cfg["load_clients"])]
        try:
            for w in workers:
                w.start()
            time.sleep(0.5)  # the surfaces are under way
            res = wrk(gd.url + "/health", cfg["load_seconds"], threads=1, conns=16)
        finally:
            stop.set()
            for w in workers:
                w.join()
            gd.stop()
        res["surfaces"] = sum(served)
        # The server's own view, from its access log: how long each /health took from its
        # headers to its last byte, free of the client's scheduling on a busy machine.
        us = sorted(int(m.group(1)) for m in re.finditer(r"^GET /health 200 \d+ (\d+)us$",
                                                         gd.log_text, re.M))
        res["server_p99_ms"] = us[int(0.99 * (len(us) - 1))] / 1e3 if us else None
        runs.append(res)
        server_p99 = f"{res['server_p99_ms']:.2f} ms" if res["server_p99_ms"] is not None else "n/a"
        log(f"  /health under load: p99 {res['p99_ms']:.2f} ms (in the server: {server_p99})  "
            f"p50 {res['p50_ms']:.3f} ms  {res['rps']:.0f} req/s, {res['surfaces']} surfaces "
            f"served, errors {res['errors']}")
    server = [r["server_p99_ms"] for r in runs if r["server_p99_ms"] is not None]
    return {"p99_ms": median([r["p99_ms"] for r in runs]),
            "p99_max_ms": max(r["p99_ms"] for r in runs),
            "server_p99_ms": median(server) if server else None, "clients": cfg["load_clients"],
            "runs": runs}


# --- 5. at and past the connection limit ---------------------------------------------------------

NGINX_CONF = """worker_processes 2;
worker_rlimit_nofile 16384;
error_log {dir}/error.log warn;
pid {dir}/nginx.pid;
events {{ worker_connections {per_worker}; }}
http {{
    access_log off;
    keepalive_timeout 15s;
    keepalive_requests 1000000;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        location / {{ default_type application/json; return 200 '{{"status":"ok"}}'; }}
    }}
}}
"""


class Nginx:
    """Debian's nginx on a free loopback port with a temporary configuration: 2 workers of
    limit / 2 worker_connections each (a worker's listen socket takes one of them), keep-alive
    15 s like gdlab's --timeout."""

    def __init__(self, limit):
        self.name = "nginx"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = tempfile.mkdtemp(prefix="gdlab-bench-nginx-")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(dir=self.dir, per_worker=limit // 2, port=self.port))
        self.proc = subprocess.Popen(["nginx", "-c", conf, "-p", self.dir, "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                if curl(self.url + "/", timeout=2)[0] == 200:
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not start")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        subprocess.run(["rm", "-rf", self.dir])


def first_answer_s(port, path, guard):
    """Seconds until a new client's GET path is answered; None past guard seconds."""
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=guard) as s:
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: b\r\n\r\n")
            if not s.recv(64):
                return None
    except OSError:
        return None
    return time.monotonic() - t0


def hold_idle(port, path, n, seconds=5.0):
    """n connections that each get one answer and stay open, idle; those answered in time."""
    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", port))
        socks.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    req = b"GET " + path.encode() + b" HTTP/1.1\r\nHost: b\r\n\r\n"
    answered, end = 0, time.monotonic() + seconds
    while time.monotonic() < end and sel.get_map():
        for key, ev in sel.select(0.1):
            s = key.fileobj
            try:
                if ev & selectors.EVENT_WRITE:
                    s.send(req)
                    sel.modify(s, selectors.EVENT_READ)
                    continue
                data = s.recv(4096)
            except OSError:
                data = b""
            sel.unregister(s)
            answered += bool(data)
    sel.close()
    return socks, answered


def bench_connlimit(cfg, gdlab_bin, bare_bin):
    """/health at 0.5x, 1x, 1.5x and 3x the connection limit for gdlab, bare libmicrohttpd and
    nginx with the same limit, interleaved; after each burst, how long a new client waits; and
    limit + 10 % idle keep-alive clients, then a new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    limit = cfg["connlimit"]
    factors = (0.5, 1.0, 1.5, 3.0)
    makers = {
        "gdlab": lambda: Server([gdlab_bin, "--bind", "127.0.0.1", "--access-log", "off",
                                 "--max-connections", str(limit)], "gdlab", "/health"),
        "bare": lambda: Server([bare_bin, "--limit", str(limit)], "bare_server", "/"),
        "nginx": lambda: Nginx(limit),
    }
    paths = {"gdlab": "/health", "bare": "/", "nginx": "/"}
    if not shutil.which("nginx"):
        log("  nginx not installed: left out")
        del makers["nginx"]
    runs = {(name, f): [] for name in makers for f in factors}
    idle = {name: [] for name in makers}
    for rnd in range(cfg["rounds"]):
        for name, make in makers.items():  # interleaved: drift hits all alike
            for f in factors:  # a fresh server per burst: no burst inherits another's state
                srv = make()
                try:
                    conns = int(limit * f)
                    res = wrk(srv.url + paths[name], cfg["connlimit_seconds"], conns=conns)
                    res["after_s"] = first_answer_s(srv.port, paths[name], 5.0)
                finally:
                    srv.stop()
                runs[(name, f)].append(res)
                after = "none in 5 s" if res["after_s"] is None else f"{res['after_s'] * 1e3:.1f} ms"
                log(f"  round {rnd + 1} {name:6s} {f:3.1f}x ({conns:5d}) {res['rps']:9.0f} req/s"
                    f"  errors {res['errors']:6d}  then a new client: {after}")
            srv = make()
            try:
                socks, answered = hold_idle(srv.port, paths[name], limit + limit // 10)
                time.sleep(0.3)
                t = first_answer_s(srv.port, paths[name], 5.0)
                for s in socks:
                    s.close()
            finally:
                srv.stop()
            idle[name].append({"answered": answered, "new_s": t})
            log(f"  round {rnd + 1} {name:6s} {limit + limit // 10} idle: {answered} answered, "
                f"then a new client: {'none in 5 s' if t is None else f'{t * 1e3:.1f} ms'}")
    out = {"limit": limit, "servers": list(makers), "factors": list(factors)}
    for name in makers:
        below = median([r["rps"] for r in runs[(name, 0.5)]])
        rows = {}
        for f in factors:
            rs = runs[(name, f)]
            afters = [r["after_s"] for r in rs]
            rows[str(f)] = {"rps": median([r["rps"] for r in rs]),
                            "ratio_to_half": median([r["rps"] for r in rs]) / below if below else 0,
                            "errors": sum(r["errors"] for r in rs),
                            "after_max_s": None if None in afters else max(afters), "runs": rs}
        t = [i["new_s"] for i in idle[name]]
        out[name] = {"by_factor": rows,
                     "idle": {"answered": min(i["answered"] for i in idle[name]),
                              "new_max_s": None if None in t else max(t)}}
    return out
