"""Sections of bench/bench.py on the tutorial page: its cold load in Chromium and the server's CPU
cost of each of its requests.
"""

import json
import os
import subprocess

from bench_common import HERE, Server, log, wrk


# --- the page's cold load ------------------------------------------------------------------------

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
