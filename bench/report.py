"""bench/bench.py's report: the figures of issues 5 and 17 and the printed table.
"""

from sections_compute import LARGE
from sections_optim import OPTIMIZERS


def figures(res):
    """(figure, measured, target, met) for each figure of issues 5 and 17."""
    rows = []
    c = res.get("ceiling")
    if c:
        rows.append(("/health req/s vs bare", f"{c['health']['ratio'] * 100:.1f}%", ">= 90%",
                     c["health"]["ratio"] >= 0.90 and c["health"]["errors"] == 0))
        rows.append(("/train?history=0 req/s vs bare", f"{c['train_h0']['ratio'] * 100:.1f}%",
                     ">= 70%", c["train_h0"]["ratio"] >= 0.70 and c["train_h0"]["errors"] == 0))
        for name, label, target in (("train_h0_distinct", "/train?history=0 new seeds", 0.70),
                                    ("surface_distinct", "/surface new seeds", 0.30)):
            if name in c:
                r = c[name]
                rows.append((f"{label} vs {r['against']}", f"{r['ratio'] * 100:.1f}%",
                             f">= {target * 100:.0f}% (issue 15)",
                             r["ratio"] >= target and r["errors"] == 0))
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
        if "surface_n100_speedup" in z:
            rows.append(("  same at n=100 (no data to generate)",
                         f"{z['surface_n100_speedup']:.1f}x", ">= 3x (issue 15)",
                         z["surface_n100_speedup"] >= 3))
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
                            ("train_h0_distinct", "  same, distinct seeds"),
                            ("train_history_distinct", "  history=1001, distinct"),
                            ("bare_surface", f"bare_server {c.get('surface_bytes', 0)} B"),
                            ("surface_distinct", "gdlab /surface, distinct")):
            if name not in c:
                continue
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
                            ("surface_n100_json", "1001x1001 surface, n=100, JSON"),
                            ("surface_n100_npz", "  same, format=npz"),
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
