"""Compare two benchmark result files of bench/run: the headline numbers side by side.

    /usr/bin/python3 bench/compare.py bench/results/OLD.json bench/results/NEW.json

Higher is better for req/s and speed-ups, lower for times, latencies and memory; the last column
is new/old. Differences within the runs' own spread are noise, not progress.
"""

import json
import sys


def headline(res):
    """(name, value, unit, better) rows, in the report's order."""
    rows = []
    c = res.get("ceiling", {})
    names = ("bare", "health", "train_h0", "train_h0_distinct", "train_history_distinct",
             "bare_surface", "surface_distinct")
    for name in names:
        if name in c:
            rows.append((f"{name} req/s", c[name]["rps"], "", "higher"))
            rows.append((f"{name} p99", c[name]["p99_ms"], "ms", "lower"))
    for name in names:
        if name in c and "ratio" in c[name]:
            rows.append((f"{name} / {c[name].get('against', 'bare')}", c[name]["ratio"] * 100, "%",
                         "higher"))
    n = res.get("numpy", {})
    for name in ("surface", "train", "dataset"):
        if name in n:
            rows.append((f"{name} gdlab", n[name]["gdlab_s"] * 1e3, "ms", "lower"))
            rows.append((f"{name} vs numpy", n[name]["speedup"], "x", "higher"))
    lg = res.get("large", {})
    for name in ("surface_1001", "train_1e7", "dataset_1e6"):
        if name in lg:
            rows.append((f"{name} time", lg[name]["seconds"] * 1e3, "ms", "lower"))
            rows.append((f"{name} MB/s", lg[name]["mb_per_s"], "", "higher"))
            rows.append((f"{name} peak RSS", lg[name]["peak_rss"] / 1e6, "MB", "lower"))
    h = res.get("health_load")
    if h:
        rows.append(("/health p99 under load", h["p99_ms"], "ms", "lower"))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: compare.py OLD.json NEW.json")
    old, new = (json.load(open(p)) for p in sys.argv[1:])
    new_rows = {name: (v, unit, better) for name, v, unit, better in headline(new)}
    print(f"{'':28s} {old['git']:>14s} {new['git']:>14s}  new/old")
    for name, v_old, unit, better in headline(old):
        if name not in new_rows:
            continue
        v_new = new_rows[name][0]
        ratio = v_new / v_old if v_old else float("inf")
        good = (ratio > 1) == (better == "higher")
        mark = "" if abs(ratio - 1) < 0.05 else ("  better" if good else "  worse")
        print(f"{name:28s} {v_old:12.2f}{unit:2s} {v_new:12.2f}{unit:2s} {ratio:7.3f}{mark}")


if __name__ == "__main__":
    main()
