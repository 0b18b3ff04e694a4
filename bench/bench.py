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
import subprocess
import time

from bench_common import HERE, TOP, log
from report import figures, print_report
from sections_compute import bench_large, bench_npz, bench_numpy
from sections_http import bench_ceiling, bench_connlimit, bench_health_under_load
from sections_optim import bench_optim
from sections_page import bench_cost, bench_page


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
