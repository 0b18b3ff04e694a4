"""Sections of bench/bench.py on the computing endpoints: against numpy, large responses, and npz
answers and uploads.
"""

import json
import os
import subprocess
import tempfile

from bench_common import PYTHON, Server, close, curl_ok, log, median, numpy_ref, spread


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
# The same grid on the book's 100 points: nothing but the answer's million losses to write, where
# npz's want of number formatting shows undiluted by generating a million points.
NPZ_SURFACE_N100 = "/surface?b_steps=1001&w_steps=1001"
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
    """The 1001x1001 surface at n = 10^6 and at the book's n = 100 as JSON and as npz (response
    cache off, alternating, one server); then 10^6 inline points for a 51x51 surface, POSTed as JSON and as an npz body,
    and, when GDLAB_BENCH_BEFORE names an older binary, the JSON POST to it (the full echo)."""
    out = {}
    gd = Server(gdlab_argv + ["--response-cache", "0"], "gdlab", "/health")
    try:
        for suffix, query in (("", NPZ_SURFACE), ("_n100", NPZ_SURFACE_N100)):
            curl_ok(gd.url + query)  # warm up: page faults of the first large answer
            times = {"json": [], "npz": []}
            sizes = {}
            for _ in range(cfg["large_reps"]):
                for fmt in ("json", "npz"):
                    t, sizes[fmt] = curl_ok(gd.url + query + "&format=" + fmt)
                    times[fmt].append(t)
            for fmt in ("json", "npz"):
                out[f"surface{suffix}_{fmt}"] = {"seconds": median(times[fmt]),
                                                 "spread": spread(times[fmt]), "bytes": sizes[fmt]}
            speedup = out[f"surface{suffix}_json"]["seconds"] / out[f"surface{suffix}_npz"]["seconds"]
            out[f"surface{suffix}_speedup"] = speedup
            log(f"  1001x1001 surface{suffix}: json {out[f'surface{suffix}_json']['seconds'] * 1e3:.1f}"
                f" ms, npz {out[f'surface{suffix}_npz']['seconds'] * 1e3:.1f} ms ({speedup:.1f}x)")
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
