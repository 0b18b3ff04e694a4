"""gdlab's benchmark suite: every figure of issue 5 measured in one run, as ratios where it can.

Run through bench/run, which builds the release binaries first:

    bench/run                      # the full run, a few minutes
    GDLAB_BENCH_QUICK=1 bench/run  # a quick pass for development (shorter, fewer repetitions)

Everything talks to 127.0.0.1 only and every loop is bounded in time. The results are printed as a
table and written to bench/results/<git-sha>.json; bench/compare.py compares two such files.
"""

import argparse
import json
import os
import platform
import re
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-numpy


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free loopback port, stopped with SIGTERM."""

    def __init__(self, argv, name, ready_path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv + ["--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                code, _, _ = curl(self.url + ready_path, timeout=2)
                if code == 200:
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"{name} did not start: {self.log.read()[-2000:].decode(errors='replace')}")

    @property
    def pid(self):
        return self.proc.pid

    def status_kb(self, field):
        """A memory figure of /proc/<pid>/status (VmHWM: peak resident set; VmRSS: current)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} for {self.name}")

    def cpu_seconds(self):
        """User + system CPU time of all the server's threads so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        self.log_text = self.log.read().decode(errors="replace")
        self.log.close()


def curl(url, out="/dev/null", timeout=60):
    """One GET: (HTTP status, seconds from connect to the last byte, bytes of body)."""
    r = subprocess.run(["curl", "-s", "-o", out, "--max-time", str(timeout), "-w",
                        "%{http_code} %{time_total} %{size_download}", url],
                       capture_output=True, text=True)
    parts = r.stdout.split()
    if len(parts) != 3:
        raise RuntimeError(f"curl {url}: {r.stderr.strip() or r.returncode}")
    return int(parts[0]), float(parts[1]), int(parts[2])


def curl_ok(url, out="/dev/null"):
    code, t, size = curl(url, out)
    if code != 200:
        raise RuntimeError(f"GET {url} answered {code}")
    return t, size


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url, seconds, threads=2, conns=64, script=None, headers=()):
    """wrk --latency: requests/s, p50/p99 latency (ms), requests and errors."""
    extra = ["-s", os.path.join(HERE, script)] if script else []
    for h in headers:
        extra += ["-H", h]
    r = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
                        "--timeout", "5s", *extra, url], capture_output=True, text=True,
                       timeout=seconds + 30)
    out = r.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"wrk {url}: cannot read its output:\n{out}\n{r.stderr}")
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"rps": float(rps.group(1)), "p50_ms": to_ms(p50.group(1)),
            "p99_ms": to_ms(p99.group(1)), "requests": int(total.group(1)), "errors": errors}


def numpy_ref(spec):
    """Run the numpy baseline in a fresh Debian python3, OPENBLAS_* unset (see the env notes)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    r = subprocess.run([PYTHON, os.path.join(HERE, "numpy_ref.py"), json.dumps(spec)],
                       capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"numpy_ref {spec}: {r.stderr}")
    return json.loads(r.stdout)


def median(xs):
    return statistics.median(xs)


def spread(xs):
    """Relative half-range around the median: how noisy repetitions were."""
    m = median(xs)
    return (max(xs) - min(xs)) / 2 / m if m else 0.0


def close(a, b, rel=1e-9):
    return a is not None and b is not None and abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)


# --- 1. the HTTP ceiling ------------------------------------------------------------------------

def bench_ceiling(cfg, gdlab_argv, bare_argv):
    bare = Server(bare_argv, "bare_server", "/")
    gd = Server(gdlab_argv, "gdlab", "/health")
    # train_h0_distinct: the same request with a new seed each time, so that none is answered
    # from gdlab's response cache (reported, not one of the figures)
    targets = [("bare", bare.url + "/", None, bare), ("health", gd.url + "/health", None, gd),
               ("train_h0", gd.url + "/train?history=0", None, gd),
               ("train_h0_distinct", gd.url + "/", "distinct_seeds.lua", gd)]
    runs = {name: [] for name, _, _, _ in targets}
    try:
        for name, url, script, _ in targets:  # warm up: connections, caches, the pool's threads
            wrk(url, 1, script=script)
        for rnd in range(cfg["rounds"]):
            for name, url, script, srv in targets:  # interleaved: drift hits all alike
                cpu0 = srv.cpu_seconds()
                res = wrk(url, cfg["wrk_seconds"], script=script)
                # the server's own CPU per request: what the noise of a shared machine moves least
                res["server_cpu_us"] = (srv.cpu_seconds() - cpu0) / max(res["requests"], 1) * 1e6
                runs[name].append(res)
                log(f"  round {rnd + 1} {name:17s} {res['rps']:10.0f} req/s  p99 {res['p99_ms']:.2f} ms"
                    f"  errors {res['errors']}")
    finally:
        gd.stop()
        bare.stop()
    out = {}
    for name, rs in runs.items():
        out[name] = {"rps": median([r["rps"] for r in rs]),
                     "p99_ms": median([r["p99_ms"] for r in rs]),
                     "rps_spread": spread([r["rps"] for r in rs]),
                     "server_cpu_us": median([r["server_cpu_us"] for r in rs]),
                     "errors": sum(r["errors"] for r in rs), "runs": rs}
    for name in ("health", "train_h0", "train_h0_distinct"):
        ratios = [g["rps"] / b["rps"] for g, b in zip(runs[name], runs["bare"])]
        out[name]["ratio"] = out[name]["rps"] / out["bare"]["rps"]
        out[name]["ratio_per_round"] = ratios
    return out


# --- 2. compute endpoints against numpy -----------------------------------------------------------

def fetch_json(gd, path):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        curl_ok(gd.url + path, f.name)
        return json.load(open(f.name))


def bench_numpy(cfg, gdlab_argv):
    n_s, steps = cfg["surface_n"], 201
    cases = [
        ("surface", f"/surface?n={n_s}&b_steps={steps}&w_steps={steps}&b_min=-2&b_max=4&w_min=-1&w_max=5",
         {"task": "surface", "n": n_s, "steps": steps, "reps": cfg["numpy_reps_surface"]}),
        ("train", "/train?epochs=10000",
         {"task": "train", "epochs": 10000, "history": 1001, "reps": cfg["numpy_reps"]}),
        ("dataset", "/dataset?n=1000000",
         {"task": "dataset", "n": 1000000, "reps": cfg["numpy_reps"]}),
    ]
    out = {}
    # Every answer computed: the response cache would answer the repeated /train from memory.
    gd = Server(gdlab_argv + ["--response-cache", "0"], "gdlab", "/health")
    try:
        for name, path, spec in cases:
            curl_ok(gd.url + path)  # warm-up
            times, np_times, size, ref = [], [], 0, None
            # gdlab and numpy alternate, so that a change in the machine's load hits both
            for k in range(max(cfg["http_reps"], spec["reps"])):
                if k < cfg["http_reps"]:
                    t, size = curl_ok(gd.url + path)
                    times.append(t)
                if k < spec["reps"]:
                    ref = numpy_ref(dict(spec, reps=1))
                    np_times.extend(ref["times"])
            check = verify(name, fetch_json(gd, path), ref)
            g, np_t = median(times), median(np_times)
            out[name] = {"path": path, "gdlab_s": g, "gdlab_spread": spread(times),
                         "gdlab_times": times, "bytes": size, "numpy_s": np_t,
                         "numpy_spread": spread(np_times), "numpy_times": np_times,
                         "speedup": np_t / g, "check": check}
            log(f"  {name:8s} gdlab {g * 1e3:9.2f} ms   numpy {np_t * 1e3:9.1f} ms   "
                f"x{np_t / g:8.1f}   same result: {check}")
        out["numpy_version"] = ref["numpy"]
    finally:
        gd.stop()
    return out


def verify(name, doc, ref):
    """Does gdlab's answer hold the numbers numpy computed? 'ok', 'MISMATCH ...' or 'n/a'."""
    r = ref["result"]
    try:
        if name == "surface":
            loss = doc["loss"]
            mid = len(loss) // 2
            gmin = doc["grid_min"]
            pairs = [(loss[0][0], r["loss_00"]), (loss[mid][mid], r["loss_mid"]),
                     (gmin["loss"], r["min_loss"])]
            same_idx = (gmin["b_index"], gmin["w_index"]) == (r["min_b_index"], r["min_w_index"])
            bad = [p for p in pairs if not close(*p)]
            return "ok" if not bad and same_idx else f"MISMATCH {bad} index {same_idx}"
        if name == "train":
            fin = doc["runs"][0]["final"]
            pairs = [(fin["b"], r["b"]), (fin["w"], r["w"]), (fin["train_loss"], r["train_loss"])]
            hist = len(doc["runs"][0]["history"]["epoch"])
            bad = [p for p in pairs if not close(*p, rel=1e-9)]
            return "ok" if not bad and hist == r["history"] else f"MISMATCH {bad} history {hist}"
        if name == "dataset":
            x0 = doc["train"]["x"][0]
            return "ok" if close(x0, r["x0"], rel=0) else f"MISMATCH x0 {x0} vs {r['x0']}"
    except (KeyError, IndexError, TypeError) as e:
        return f"n/a ({type(e).__name__}: {e})"
    return "n/a"


# --- 3. large responses ---------------------------------------------------------------------------

LARGE = [
    ("surface_1001", "/surface?n=1000000&b_steps=1001&w_steps=1001", 0.150),
    ("train_1e7", "/train?epochs=10000000&history=1001", 0.100),
    ("dataset_1e6", "/dataset?n=1000000", 0.400),
]


def bench_large(cfg, gdlab_argv):
    """Each repetition on a freshly started server, so that VmHWM is that request's peak."""
    out = {}
    for name, path, limit in LARGE:
        times, peaks, deltas, size = [], [], [], 0
        for _ in range(cfg["large_reps"]):
            gd = Server(gdlab_argv, "gdlab", "/health")
            try:
                base = gd.status_kb("VmHWM")
                t, size = curl_ok(gd.url + path)
                peak = gd.status_kb("VmHWM")
            finally:
                gd.stop()
            times.append(t)
            peaks.append(peak * 1024)
            deltas.append((peak - base) * 1024)
        t = median(times)
        out[name] = {"path": path, "seconds": t, "spread": spread(times), "times": times,
                     "limit_s": limit, "bytes": size, "mb_per_s": size / t / 1e6,
                     "peak_rss": max(peaks), "peak_rss_delta": max(deltas),
                     "rss_ratio": max(peaks) / size if size else None}
        log(f"  {name:13s} {t * 1e3:8.1f} ms  {size / 1e6:7.2f} MB  {size / t / 1e6:7.1f} MB/s  "
            f"peak RSS {max(peaks) / 1e6:6.1f} MB (+{max(deltas) / 1e6:.1f} MB)")
    return out


# --- 3b. arrays for numpy users: npz answers and npz uploads (issue 15) -------------------------

NPZ_SURFACE = "/surface?n=1000000&b_steps=1001&w_steps=1001"
INLINE_N = 1000000
INLINE_QUERY = "b_steps=51&w_steps=51"


def curl_post(url, path, content_type):
    """One POST of a file: (HTTP status, seconds, bytes of the answer)."""
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "120", "-w",
                        "%{http_code} %{time_total} %{size_download}", "-H",
                        "Content-Type: " + content_type, "--data-binary", "@" + path, url],
                       capture_output=True, text=True)
    code, t, size = r.stdout.split()
    if code != "200":
        raise RuntimeError(f"POST {url} answered {code}")
    return float(t), int(size)


def bench_npz(cfg, gdlab_argv):
    """The 1001x1001 surface at n = 10^6 as JSON and as npz (response cache off, alternating,
    one server); then 10^6 inline points for a 51x51 surface, POSTed as JSON and as an npz body,
    and, when GDLAB_BENCH_BEFORE names an older binary, the JSON POST to it (the full echo)."""
    out = {}
    gd = Server(gdlab_argv + ["--response-cache", "0"], "gdlab", "/health")
    try:
        curl_ok(gd.url + NPZ_SURFACE)  # warm up: page faults of the first large answer
        times = {"json": [], "npz": []}
        sizes = {}
        for _ in range(cfg["large_reps"]):
            for fmt in ("json", "npz"):
                t, sizes[fmt] = curl_ok(gd.url + NPZ_SURFACE + "&format=" + fmt)
                times[fmt].append(t)
        for fmt in ("json", "npz"):
            out["surface_" + fmt] = {"seconds": median(times[fmt]), "spread": spread(times[fmt]),
                                     "bytes": sizes[fmt]}
        out["surface_speedup"] = out["surface_json"]["seconds"] / out["surface_npz"]["seconds"]
        log(f"  1001x1001 surface: json {out['surface_json']['seconds'] * 1e3:.1f} ms, npz "
            f"{out['surface_npz']['seconds'] * 1e3:.1f} ms ({out['surface_speedup']:.1f}x)")
    finally:
        gd.stop()

    # the inline data: the same 10^6 points as a JSON body (numbers as Python's repr) and as npz
    with tempfile.TemporaryDirectory() as tmp:
        gen = ("import io, json, sys, numpy as np\n"
               "rng = np.random.default_rng(15)\n"
               f"x = rng.uniform(size={INLINE_N}); y = 1 + 2 * x + rng.normal(scale=0.1, size=x.size)\n"
               "open(sys.argv[1], 'w').write(json.dumps({'x': x.tolist(), 'y': y.tolist(), "
               "'b_steps': 51, 'w_steps': 51}))\n"
               "np.savez(sys.argv[2], x=x, y=y)\n")
        body_json, body_npz = os.path.join(tmp, "body.json"), os.path.join(tmp, "body.npz")
        subprocess.run([PYTHON, "-c", gen, body_json, body_npz], check=True)
        out["inline_json_body_bytes"] = os.path.getsize(body_json)
        out["inline_npz_body_bytes"] = os.path.getsize(body_npz)
        targets = [("inline_json", "", body_json, "application/json"),
                   ("inline_npz", "?" + INLINE_QUERY, body_npz, "application/x-npz")]
        servers = [("", gdlab_argv)]
        before = os.environ.get("GDLAB_BENCH_BEFORE")
        if before:
            servers.append(("before_", [before] + gdlab_argv[1:]))
        for prefix, argv in servers:
            gd = Server(argv + ["--response-cache", "0"], "gdlab", "/health")
            try:
                for name, query, body, ctype in targets:
                    if prefix and name == "inline_npz":
                        continue  # an older binary takes no npz body
                    times, size = [], 0
                    for _ in range(cfg["large_reps"]):
                        t, size = curl_post(gd.url + "/surface" + query, body, ctype)
                        times.append(t)
                    out[prefix + name] = {"seconds": median(times), "spread": spread(times),
                                          "bytes": size}
                    log(f"  {prefix + name:18s} {median(times) * 1e3:8.1f} ms, answer "
                        f"{size / 1e6:.3f} MB")
            finally:
                gd.stop()
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


# --- optimizers: the core's steps against torch.optim in-process --------------------------------

OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def bench_optim(cfg, build):
    """core_bench optim (CPU ns per step, best of 3) beside bench/torch_ref.py (the same runs in
    torch the book's way, CPU ns per step, best of reps), full batch and mini-batches of 16."""
    core = subprocess.run([os.path.join(build, "bench", "core_bench"), "optim",
                           str(cfg["optim_steps"])], capture_output=True, text=True, timeout=600)
    if core.returncode != 0:
        raise RuntimeError(f"core_bench optim: {core.stderr}")
    ref = subprocess.run([PYTHON, os.path.join(HERE, "torch_ref.py"),
                          json.dumps({"steps": cfg["torch_steps"], "reps": cfg["torch_reps"]})],
                         capture_output=True, text=True, timeout=600)
    if ref.returncode != 0:
        raise RuntimeError(f"torch_ref: {ref.stderr}")
    core, ref = json.loads(core.stdout), json.loads(ref.stdout)
    out = {"torch_version": ref["torch"], "runs": {}}
    for name in OPTIMIZERS:
        row = {}
        for kind in ("full_ns", "batch16_ns"):
            row[kind] = core[name][kind]
            row["torch_" + kind] = ref[name][kind]
            row[kind.replace("_ns", "_speedup")] = ref[name][kind] / core[name][kind]
        out["runs"][name] = row


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


# --- the report -----------------------------------------------------------------------------------

def bench_page(cfg, gdlab):
    """Cold loads of the tutorial page in headless Chromium (bench/page_load.mjs): the time from
    navigation start to every figure drawn, the measurement that tests/web no longer asserts."""
    out = subprocess.run(["node", os.path.join(HERE, "page_load.mjs"), "--server", gdlab,
                          "--loads", str(cfg["page_loads"]), "--json"],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        log("page load: " + out.stderr[-2000:])
        return {"error": out.stderr[-500:]}
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    return {"median_ms": doc["median_ms"], "loads_ms": doc["loads"]}


# --- 5. CPU cost of each request of the page, for sizing replicas ---------------------------------

BROWSER = ("Accept-Encoding: gzip, deflate, br",)


def page_requests(seed=42):
    """bench/page-requests.txt: the page's requests in its order, with the book's seed."""
    with open(os.path.join(HERE, "page-requests.txt")) as f:
        return [line.strip().replace("{seed}", str(seed)) for line in f if line.startswith("/")]


def bench_cost(cfg, gdlab_argv):
    """Server CPU time per request of each of the page's requests (one thread, response cache off,
    so that every answer is computed; gzip asked as a browser asks), and what one CPU serves."""
    gd = Server(gdlab_argv + ["--threads", "1", "--response-cache", "0"], "gdlab", "/health")
    rows = []
    try:
        for path in page_requests():
            accept = ("Accept: text/html",) if path == "/" else ("Accept: application/json",)
            wrk(gd.url + path, 1, threads=1, conns=4, headers=BROWSER + accept)  # warm up
            cpu0 = gd.cpu_seconds()
            res = wrk(gd.url + path, cfg["cost_seconds"], threads=1, conns=4,
                      headers=BROWSER + accept)
            res["cpu_us"] = (gd.cpu_seconds() - cpu0) / max(res["requests"], 1) * 1e6
            res["path"] = path
            rows.append(res)
            log(f"  {path[:70]:70s} {res['cpu_us']:9.1f} us CPU/request  errors {res['errors']}")
    finally:
        gd.stop()
    page_us = sum(r["cpu_us"] for r in rows)
    step = [r for r in rows if "&epochs=1&history=2" in r["path"]][0]
    eta = [r for r in rows if "&lr=0.1&epochs=1000&history=1001" in r["path"]][0]
    return {"rows": rows, "page_view_cpu_us": page_us,
            "page_views_per_cpu_s": 1e6 / page_us,
            "train_cpu_us": eta["cpu_us"], "train_per_cpu_s": 1e6 / eta["cpu_us"],
            "slider_step_cpu_us": step["cpu_us"] + eta["cpu_us"],
            "slider_steps_per_cpu_s": 1e6 / (step["cpu_us"] + eta["cpu_us"]),
            "errors": sum(r["errors"] for r in rows)}


def figures(res):
    """(figure, measured, target, met) for each figure of issues 5 and 17."""
    rows = []
    c = res.get("ceiling")
    if c:
        rows.append(("/health req/s vs bare", f"{c['health']['ratio'] * 100:.1f}%", ">= 90%",
                     c["health"]["ratio"] >= 0.90 and c["health"]["errors"] == 0))
        rows.append(("/train?history=0 req/s vs bare", f"{c['train_h0']['ratio'] * 100:.1f}%",
                     ">= 70%", c["train_h0"]["ratio"] >= 0.70 and c["train_h0"]["errors"] == 0))
    n = res.get("numpy")
    if n:
        for name, target in (("surface", 100), ("train", 100), ("dataset", 3)):
            rows.append((f"/{name} vs numpy", f"{n[name]['speedup']:.1f}x", f">= {target}x",
                         n[name]["speedup"] >= target and n[name]["check"] == "ok"))
    lg = res.get("large")
    if lg:
        for name, _, limit in LARGE:
            rows.append((f"{name} wall time", f"{lg[name]['seconds'] * 1e3:.1f} ms",
                         f"<= {limit * 1e3:.0f} ms", lg[name]["seconds"] <= limit))
        s = lg["surface_1001"]
        rows.append(("surface_1001 peak RSS / bytes", f"{s['rss_ratio']:.2f}x", "<= 3x",
                     s["rss_ratio"] <= 3))
    cl = res.get("connlimit")
    if cl:
        g = cl["gdlab"]
        for f in ("1.5", "3.0"):
            r = g["by_factor"][f]
            rows.append((f"/health at {f}x limit vs 0.5x", f"{r['ratio_to_half'] * 100:.0f}%",
                         ">= 80%", r["ratio_to_half"] >= 0.8))
        worst = [r["after_max_s"] for r in g["by_factor"].values()]
        rows.append(("new client after a burst", "none in 5 s" if None in worst else
                     f"{max(worst) * 1e3:.0f} ms", "< 1 s", None not in worst and max(worst) < 1))
        t = g["idle"]["new_max_s"]
        rows.append((f"new client past {cl['limit'] * 11 // 10} idle", "none in 5 s" if t is None
                     else f"{t * 1e3:.0f} ms", "< 1 s", t is not None and t < 1))
    h = res.get("health_load")
    if h:
        rows.append(("/health p99 under large surfaces", f"{h['p99_ms']:.2f} ms", "< 10 ms",
                     h["p99_ms"] < 10))
    z = res.get("npz")
    if z:
        rows.append(("1001x1001 surface npz vs JSON", f"{z['surface_speedup']:.1f}x",
                     ">= 3x (issue 15)", z["surface_speedup"] >= 3))
    pg = res.get("page")
    if pg and "median_ms" in pg:
        rows.append(("page: every figure drawn (median)", f"{pg['median_ms']:.0f} ms",
                     "<= 300 ms (issue 15)", pg["median_ms"] <= 300))
    return rows


def print_report(res):
    p = print
    p(f"\ngdlab benchmark  {res['git']}{' (dirty)' if res['dirty'] else ''}  {res['date']}  "
      f"{res['cpus']} CPUs  load {res['load_before']} -> {res['load_after']}"
      f"{'  QUICK MODE' if res['quick'] else ''}")
    c = res.get("ceiling")
    if c:
        p("\nHTTP ceiling (wrk -t2 -c64, median of rounds; spread = half-range / median)")
        p(f"  {'target':22s} {'req/s':>10s} {'p99 ms':>8s} {'ratio':>7s} {'spread':>7s} {'errors':>7s}"
          f" {'server CPU/req':>15s}")
        p("  (distinct seeds: each request a new seed, so none is answered from the response cache)")
        for name, label in (("bare", "bare_server /"), ("health", "gdlab /health"),
                            ("train_h0", "gdlab /train?history=0"),
                            ("train_h0_distinct", "  same, distinct seeds")):
            r = c[name]
            ratio = f"{r['ratio'] * 100:.1f}%" if "ratio" in r else "100%"
            p(f"  {label:22s} {r['rps']:10.0f} {r['p99_ms']:8.2f} {ratio:>7s} "
              f"{r['rps_spread'] * 100:6.1f}% {r['errors']:7d} {r['server_cpu_us']:12.1f} us")
    n = res.get("numpy")
    if n:
        p(f"\nCompute endpoints over HTTP (response cache off) vs the tutorial's numpy in-process "
          f"(numpy {n['numpy_version']}); medians of alternating runs")
        p(f"  {'endpoint':10s} {'gdlab ms':>10s} {'numpy ms':>11s} {'speedup':>9s} {'bytes':>10s}  same result")
        for name in ("surface", "train", "dataset"):
            r = n[name]
            p(f"  {name:10s} {r['gdlab_s'] * 1e3:10.2f} {r['numpy_s'] * 1e3:11.1f} "
              f"{r['speedup']:8.1f}x {r['bytes']:10d}  {r['check']}")
            p(f"  {'':10s} {r['path']}")
    lg = res.get("large")
    if lg:
        p("\nLarge responses (fresh server per repetition; median time, max peak RSS)")
        p(f"  {'request':13s} {'ms':>8s} {'spread':>7s} {'MB':>8s} {'MB/s':>8s} {'peak RSS MB':>12s}"
          f" {'delta MB':>9s} {'RSS/bytes':>9s}")
        for name, _, _ in LARGE:
            r = lg[name]
            p(f"  {name:13s} {r['seconds'] * 1e3:8.1f} {r['spread'] * 100:6.1f}% "
              f"{r['bytes'] / 1e6:8.2f} {r['mb_per_s']:8.1f} {r['peak_rss'] / 1e6:12.1f} "
              f"{r['peak_rss_delta'] / 1e6:9.1f} {r['rss_ratio']:9.2f}")
    z = res.get("npz")
    if z:
        p("\nArrays for numpy users (response cache off; medians)")
        for name, label in (("surface_json", "1001x1001 surface, n=10^6, JSON"),
                            ("surface_npz", "  same, format=npz"),
                            ("before_inline_json", "10^6 inline points, 51x51, JSON body, before"),
                            ("inline_json", "  same, JSON body, echo by hash"),
                            ("inline_npz", "  same, npz body")):
            if name in z:
                r = z[name]
                p(f"  {label:46s} {r['seconds'] * 1e3:9.1f} ms {r['spread'] * 100:6.1f}% "
                  f"{r['bytes'] / 1e6:10.3f} MB")
        p(f"  bodies sent: JSON {z['inline_json_body_bytes'] / 1e6:.1f} MB, npz "
          f"{z['inline_npz_body_bytes'] / 1e6:.1f} MB")
    h = res.get("health_load")
    if h:
        p(f"\n/health while {h['clients']} clients fetch 1001x1001 surfaces back to back "
          f"(wrk -t1 -c16): p99 median {h['p99_ms']:.2f} ms, worst {h['p99_max_ms']:.2f} ms, "
          f"surfaces served {[r['surfaces'] for r in h['runs']]}")
        if h.get("server_p99_ms") is not None:
            p(f"  the same requests timed inside the server (access log): p99 median "
              f"{h['server_p99_ms']:.2f} ms")
    o = res.get("optim")
    if o:
        p(f"\nOptimizer steps, core vs torch.optim in-process (torch {o['torch_version']}, float64, "
          f"one thread; CPU ns per step, best of repetitions; tutorial data, lr 1e-7)")
        p(f"  {'optimizer':10s} {'full ns':>9s} {'torch ns':>10s} {'speedup':>9s}   "
          f"{'batch16 ns':>10s} {'torch ns':>10s} {'speedup':>9s}")
        for name in OPTIMIZERS:
            r = o["runs"][name]
            p(f"  {name:10s} {r['full_ns']:9.1f} {r['torch_full_ns']:10.0f} "
              f"{r['full_speedup']:8.0f}x   {r['batch16_ns']:10.1f} {r['torch_batch16_ns']:10.0f} "
              f"{r['batch16_speedup']:8.0f}x")
    cl = res.get("connlimit")
    if cl:
        p(f"\nAt and past the connection limit ({cl['limit']}; gdlab --max-connections, bare "
          f"--limit, nginx 2 x {cl['limit'] // 2} worker_connections): /health req/s, median of "
          f"rounds (ratio to 0.5x) and the longest wait of a new client after the burst")
        p(f"  {'server':8s}" + "".join(f" {f + 'x':>24s}" for f in map(str, cl["factors"])))
        for name in cl["servers"]:
            cells = []
            for f in map(str, cl["factors"]):
                r = cl[name]["by_factor"][f]
                after = "deaf" if r["after_max_s"] is None else f"{r['after_max_s'] * 1e3:.0f}ms"
                cells.append(f"{r['rps']:8.0f} ({r['ratio_to_half'] * 100:3.0f}%) {after:>7s}")
            p(f"  {name:8s}" + "".join(f" {c:>24s}" for c in cells))
        p(f"  {cl['limit'] * 11 // 10} idle keep-alive clients, then a new one: " + ", ".join(
            f"{name} {cl[name]['idle']['answered']} answered, new client "
            + ("none in 5 s" if cl[name]['idle']['new_max_s'] is None
               else f"{cl[name]['idle']['new_max_s'] * 1e3:.0f} ms") for name in cl["servers"]))
    cost = res.get("cost")
    if cost:
        p("\nCPU per request of the page's requests at the book's defaults (one server thread, "
          "response cache off, gzip asked)")
        for r in cost["rows"]:
            p(f"  {r['path'][:78]:78s} {r['cpu_us']:9.1f} us")
        p(f"  one page view (all of the above): {cost['page_view_cpu_us']:.0f} us of CPU: "
          f"{cost['page_views_per_cpu_s']:.0f} page views/s per CPU")
        p(f"  /train (1000 epochs, 1001 history points): {cost['train_cpu_us']:.0f} us: "
          f"{cost['train_per_cpu_s']:.0f} /train/s per CPU; a slider step (two /train): "
          f"{cost['slider_steps_per_cpu_s']:.0f} steps/s per CPU")
    p("\nFigures of issues 5 and 17")
    for fig, got, target, met in figures(res):
        p(f"  {'MET ' if met else 'MISS'}  {fig:34s} {got:>12s}  (target {target})")


def git(*args):
    r = subprocess.run(["git", "-C", TOP, *args], capture_output=True, text=True)
    return r.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the release build directory")
    ap.add_argument("--only", default="ceiling,numpy,large,npz,load,page,optim,connlimit,cost",
                    help="comma-separated sections to run (default: all)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()

    quick = os.environ.get("GDLAB_BENCH_QUICK", "") not in ("", "0")
    cfg = {"rounds": 1 if quick else 3, "wrk_seconds": 2 if quick else 10,
           "surface_n": 1000 if quick else 10000, "numpy_reps_surface": 1 if quick else 3,
           "numpy_reps": 1 if quick else 5, "http_reps": 3 if quick else 11,
           "large_reps": 1 if quick else 5, "load_reps": 1 if quick else 3,
           "load_seconds": 3 if quick else 10, "load_clients": 2,
           "page_loads": 3 if quick else 9,
           "optim_steps": 100000 if quick else 1000000, "torch_steps": 500 if quick else 3000,
           "torch_reps": 1 if quick else 3,
           "connlimit": 1024, "connlimit_seconds": 3 if quick else 6,
           "cost_seconds": 2 if quick else 5}
    gdlab = os.path.join(args.build, "src", "gdlab")
    bare = os.path.join(args.build, "bench", "bare_server")
    gdlab_argv = [gdlab, "--bind", "127.0.0.1"]
    sections = set(args.only.split(","))

    res = {"git": git("rev-parse", "--short=12", "HEAD"),
           "dirty": bool(git("status", "--porcelain", "--untracked-files=no", "--", "src", "include")),
           "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
           "machine": platform.processor() or platform.machine(), "quick": quick, "config": cfg,
           "load_before": round(os.getloadavg()[0], 2)}
    if "ceiling" in sections:
        log("HTTP ceiling")
        res["ceiling"] = bench_ceiling(cfg, gdlab_argv, [bare])
    if "numpy" in sections:
        log("compute endpoints vs numpy")
        res["numpy"] = bench_numpy(cfg, gdlab_argv)
    if "large" in sections:
        log("large responses")
        res["large"] = bench_large(cfg, gdlab_argv)
    if "npz" in sections:
        log("npz answers and uploads")
        res["npz"] = bench_npz(cfg, gdlab_argv)
    if "load" in sections:
        log("/health under large surfaces")
        res["health_load"] = bench_health_under_load(cfg, gdlab_argv)
    if "page" in sections:
        log("page load")
        res["page"] = bench_page(cfg, gdlab)
    if "optim" in sections:
        log("optimizer steps vs torch")
        res["optim"] = bench_optim(cfg, args.build)
    if "connlimit" in sections:
        log("at and past the connection limit")
        res["connlimit"] = bench_connlimit(cfg, gdlab, bare)
    if "cost" in sections:
        log("CPU per request of the page's requests")
        res["cost"] = bench_cost(cfg, gdlab_argv)
    res["load_after"] = round(os.getloadavg()[0], 2)
    res["figures"] = [{"figure": f, "measured": g, "target": t, "met": m}
                      for f, g, t, m in figures(res)]

    print_report(res)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, f"{res['git']}{'-dirty' if res['dirty'] else ''}"
                        f"{'-quick' if quick else ''}.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    print(f"\nwritten {os.path.relpath(path, os.getcwd())}")


if __name__ == "__main__":
    main()
