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


# --- the report -----------------------------------------------------------------------------------

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
    """(figure, measured, target, met) for each figure of issue 5."""
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
    h = res.get("health_load")
    if h:
        rows.append(("/health p99 under large surfaces", f"{h['p99_ms']:.2f} ms", "< 10 ms",
                     h["p99_ms"] < 10))
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
    h = res.get("health_load")
    if h:
        p(f"\n/health while {h['clients']} clients fetch 1001x1001 surfaces back to back "
          f"(wrk -t1 -c16): p99 median {h['p99_ms']:.2f} ms, worst {h['p99_max_ms']:.2f} ms, "
          f"surfaces served {[r['surfaces'] for r in h['runs']]}")
        if h.get("server_p99_ms") is not None:
            p(f"  the same requests timed inside the server (access log): p99 median "
              f"{h['server_p99_ms']:.2f} ms")
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
    p("\nFigures of issue 5")
    for fig, got, target, met in figures(res):
        p(f"  {'MET ' if met else 'MISS'}  {fig:34s} {got:>12s}  (target {target})")


def git(*args):
    r = subprocess.run(["git", "-C", TOP, *args], capture_output=True, text=True)
    return r.stdout.strip()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", required=True, help="the release build directory")
    ap.add_argument("--only", default="ceiling,numpy,large,load,cost",
                    help="comma-separated sections to run (default: all)")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()

    quick = os.environ.get("GDLAB_BENCH_QUICK", "") not in ("", "0")
    cfg = {"rounds": 1 if quick else 3, "wrk_seconds": 2 if quick else 10,
           "surface_n": 1000 if quick else 10000, "numpy_reps_surface": 1 if quick else 3,
           "numpy_reps": 1 if quick else 5, "http_reps": 3 if quick else 11,
           "large_reps": 1 if quick else 5, "load_reps": 1 if quick else 3,
           "load_seconds": 3 if quick else 10, "load_clients": 2,
           "cost_seconds": 2 if quick else 5}
    gdlab = os.path.join(args.build, "src", "http", "gdlab")
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
    if "load" in sections:
        log("/health under large surfaces")
        res["health_load"] = bench_health_under_load(cfg, gdlab_argv)
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
