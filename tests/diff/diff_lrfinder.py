#!/usr/bin/python3
"""Differential test of gdlab's learning-rate range test (gd_lrfinder_run) against
torch_lr_finder's LRFinder.range_test, re-implemented here on torch.optim (float64).

The reference is the library's loop (torch_lr_finder/lr_finder.py, range_test with val_loader
None, accumulation_steps 1, and plot()'s "steepest" suggestion), written out:

    set the optimizer's lr to start_lr; sched = ExponentialLR|LinearLR(optimizer, end_lr, num_iter)
      (a torch _LRScheduler: its constructor steps once, last_epoch 0, lr = get_lr() = start_lr)
    for iteration in range(num_iter):
        zero_grad; loss = criterion(model(batch)); loss.backward(); optimizer.step()
        history lr.append(sched.get_lr()[0]); sched.step()
        iteration 0: best = loss; else: loss = smooth_f*loss + (1-smooth_f)*history loss[-1]
                                        (when smooth_f > 0), best = loss if loss < best
        history loss.append(loss); stop if loss > diverge_th * best
    suggestion: argmin(numpy.gradient(losses[10:-5])), none when numpy raises
    get_lr: r = last_epoch / (num_iter - 1);
            exp base_lr * (end_lr / base_lr) ** r, linear base_lr + r * (end_lr - base_lr)

plus gdlab's one documented departure: a non-finite smoothed loss stops the test (the library
would record NaN to the end). The batches are /train's: numpy RandomState(shuffle_seed)
.permutation(n_train) at every epoch start (TrainDataLoaderIter's auto_reset re-iterates the
DataLoader), consecutive slices, the last one shorter; full batch = every row, every iteration.

Two modes:
  * exact: the loss and gradient handed to torch are computed the core's way (from the
    training moments on the full batch, a sequential loop over a mini-batch's rows, as
    diff_torch.py does), so the loop, the schedules, the smoothing, the stop, the optimizers'
    arithmetic and the suggestion are all that is compared: lr, loss, raw_loss, stopped_at,
    count, best, suggestion and the final (b, w) must be bit-identical;
  * autograd: full batch, the book's way, loss = ((b + w x - y)**2).mean() and its autograd
    gradient, whose rounding is torch's. lr is still bit-identical, and stopped_at, count, best
    and suggestion must agree exactly. loss and raw_loss must agree to 1e-12 relative at every
    point where the test is still well-conditioned, measured by the reference itself: run once
    more with the full-batch gradient from a sequential loop over the rows (another faithful
    rounding), the moments' and the loop's curves agree there to 1e-13. That covers the falling
    part of every curve. Past it the rates exceed what the iteration can damp: the rounding
    noise of the gradient (a last-bit difference of a gradient near zero) grows by up to
    |1 - lr lambda_max| per step, or chaotically for the adaptive optimizers (steps of about
    lr*sign(g)), until it is part of the loss itself (seen: 0.78 relative, adagrad, linear, on
    the tutorial's data, between the two faithful roundings too). There loss and raw_loss must
    stay within 64 times the moments-vs-loop spread at that point (seen: at most ~9 times).

Prints one line per failure and a closing line "N passed, M failed".

Usage: diff_lrfinder.py DRIVER [--seed S] [--quick]
Run with Debian's python3 (python3-numpy, python3-torch).
"""
import argparse
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
from torch.optim.lr_scheduler import _LRScheduler

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from diff_torch import (OPTS, Tally, dataset_line, full_grad, full_loss, hx,  # noqa: E402
                        lambdas, make_datasets, make_optimizer, parse_data, pf, run_driver)

SKIP_START, SKIP_END = 10, 5
# autograd mode: 1e-12 where the moments' and a loop's rounding still agree to 1e-13; past it,
# within 64 times their spread
AUTOGRAD_SPREAD, AUTOGRAD_REL, AUTOGRAD_FACTOR = 1e-13, 1e-12, 64.0


class RangeSchedule(_LRScheduler):
    """The library's ExponentialLR / LinearLR (torch >= 1.1.0 branch: r = last_epoch / (n - 1))."""

    def __init__(self, optimizer, end_lr, num_iter, mode):
        self.end_lr, self.num_iter, self.mode = end_lr, num_iter, mode
        super().__init__(optimizer, -1)

    def get_lr(self):
        r = self.last_epoch / (self.num_iter - 1)
        if self.mode == "exp":
            return [base * (self.end_lr / base) ** r for base in self.base_lrs]
        return [base + r * (self.end_lr - base) for base in self.base_lrs]


def batch_eval(x, y, rows, b, w):
    """gd_batch_eval: e = b + w x - y summed in row order; loss, dL/db, dL/dw."""
    se = sxe = see = 0.0
    for i in rows:
        xi = x[i]
        e = b + w * xi - y[i]
        se += e
        sxe += xi * e
        see += e * e
    n = len(rows)
    return see / n, 2.0 * se / n, 2.0 * sxe / n


def batches(rows_split, batch, shuffle, seed):
    """Endless mini-batches, a new permutation per epoch (DataLoader, drop_last=False)."""
    rs = np.random.RandomState(seed)
    n = len(rows_split)
    while True:
        perm = rs.permutation(n) if shuffle else np.arange(n)
        for k in range(0, n, batch):
            yield [rows_split[j] for j in perm[k:k + batch]]


def steepest(losses, skip_start=SKIP_START, skip_end=SKIP_END):
    """plot()'s suggestion, index into the whole curve; None where numpy.gradient raises."""
    sl = losses[skip_start:] if skip_end == 0 else losses[skip_start:-skip_end]
    try:
        return skip_start + int(np.gradient(np.array(sl)).argmin())
    except ValueError:
        return None


def reference(r, data, grad="core"):
    """The library's loop on torch.optim. grad: "core" (the core's loss and gradient), "loop"
    (full batch: a sequential loop over every training row, another faithful rounding) or
    "autograd" (full batch: torch's MSE and autograd)."""
    x, y, rows_split, m = data["x"], data["y"], data["train_rows"], data["mom"]
    batch = r.get("batch", 0)
    p = torch.tensor([r["b0"], r["w0"]], requires_grad=True)
    o = make_optimizer(dict(r, lr=r["start_lr"]), p)
    sched = RangeSchedule(o, r["end_lr"], r["num_iter"], r["mode"])
    smooth_f, diverge_th = r["smooth_f"], r["diverge_th"]
    it = batches(rows_split, batch, r.get("shuffle", 1), r.get("sseed", 42)) if batch else None
    autograd = grad == "autograd"
    if autograd:
        xt = torch.tensor([x[i] for i in rows_split])
        yt = torch.tensor([y[i] for i in rows_split])
    lrs, losses, raws = [], [], []
    best, best_i, stopped = None, -1, -1
    for i in range(r["num_iter"]):
        o.zero_grad(set_to_none=True)
        b, w = p.tolist()
        if autograd:
            lo = ((p[0] + p[1] * xt - yt) ** 2).mean()
            lo.backward()
            loss = lo.item()
        else:
            if batch:
                loss, gb, gw = batch_eval(x, y, next(it), b, w)
            elif grad == "loop":
                loss, gb, gw = batch_eval(x, y, rows_split, b, w)
            else:
                loss = full_loss(m, b, w)
                gb, gw = full_grad(m, b, w)
            p.grad = torch.tensor([gb, gw])
        o.step()
        lrs.append(sched.get_lr()[0])
        sched.step()
        raws.append(loss)
        if i == 0:
            best, best_i = loss, (0 if math.isfinite(loss) else -1)
        else:
            if smooth_f > 0:
                loss = smooth_f * loss + (1 - smooth_f) * losses[-1]
            if loss < best:
                best, best_i = loss, i
        losses.append(loss)
        if loss > diverge_th * best or not math.isfinite(loss):  # the latter: gdlab's rule
            stopped = i
            break
    s = steepest(losses, r.get("skip_start", SKIP_START), r.get("skip_end", SKIP_END))
    b, w = p.tolist()
    return dict(lr=lrs, loss=losses, raw=raws, stopped=stopped, best=best_i,
                best_lr=lrs[best_i] if best_i >= 0 else math.nan,
                best_loss=losses[best_i] if best_i >= 0 else math.nan,
                sugg=-1 if s is None else s, sugg_lr=math.nan if s is None else lrs[s], b=b, w=w)


def same(a, b):
    return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)


def compare(t, cid, r, got, want, mode):
    name = (f"cfg {cid} {r['_ds']} {r['opt']} {r['mode']} {r['start_lr']:.3g}..{r['end_lr']:.3g}"
            f" n={r['num_iter']} batch={r.get('batch', 0)} smooth={r['smooth_f']}"
            f" th={r['diverge_th']:.3g} [{mode}]")
    if got.get("lrf_status", ["?"])[0] != "OK":
        t.check(False, f"{name}: driver {got.get('lrf_status')} invalid={got.get('lrf_invalid')}")
        return
    f = got["lrf_result"]
    stopped, count, best_i = int(f[0]), int(f[1]), int(f[2])
    best_lr, best_loss, sugg_i = pf(f[3]), pf(f[4]), int(f[5])
    sugg_lr, b, w = pf(f[6]), pf(f[7]), pf(f[8])
    lr = [pf(v) for v in got.get("lrf_lr", [])]
    loss = [pf(v) for v in got.get("lrf_loss", [])]
    raw = [pf(v) for v in got.get("lrf_raw", [])]
    got_arrays = dict(loss=loss, raw=raw)
    if "_want_stop" in r:
        t.check(stopped == r["_want_stop"], f"{name}: stopped_at {stopped}, "
                f"the case wants {r['_want_stop']}")
    t.check(count == len(want["loss"]) and stopped == want["stopped"],
            f"{name}: {count} points stopped at {stopped}, reference {len(want['loss'])} "
            f"stopped at {want['stopped']}")
    t.check(best_i == want["best"] and sugg_i == want["sugg"],
            f"{name}: best {best_i} suggestion {sugg_i}, reference {want['best']} {want['sugg']}")
    if count != len(want["loss"]):
        return
    t.check(all(same(a, c) for a, c in zip(lr, want["lr"])), f"{name}: lr differs")
    t.check(same(best_lr, want["best_lr"]) and same(sugg_lr, want["sugg_lr"]),
            f"{name}: best_lr {best_lr!r} suggestion_lr {sugg_lr!r}, "
            f"reference {want['best_lr']!r} {want['sugg_lr']!r}")
    if mode == "exact":
        bad = None
        for key, g, wv in (("loss", loss, want["loss"]), ("raw", raw, want["raw"])):
            for k, (a, c) in enumerate(zip(g, wv)):
                if not same(a, c):
                    bad = bad or f"{key}[{k}] {a!r}, reference {c!r}"
        t.check(bad is None, f"{name}: {bad}")
        t.check(same(best_loss, want["best_loss"]), f"{name}: best_loss differs")
        t.check((same(b, want["b"]) and same(w, want["w"])),
                f"{name}: final (b, w) ({b!r}, {w!r}), reference ({want['b']!r}, {want['w']!r})")
        return
    # the test's own conditioning at each point: how far two faithful roundings of the same
    # gradient (the moments', a sequential loop's) have drifted apart by then
    core, loop = want["core"], want["loop"]
    bad = None
    for key in ("loss", "raw"):
        for k, (a, c) in enumerate(zip(got_arrays[key], want[key])):
            if not (math.isfinite(a) and math.isfinite(c)):
                ok = same(a, c)
            else:
                d = abs(a - c) / max(abs(c), 1e-300)
                spread = (abs(core[key][k] - loop[key][k]) / max(abs(loop[key][k]), 1e-300)
                          if k < len(loop[key]) and k < len(core[key]) else math.inf)
                conditioned = spread <= AUTOGRAD_SPREAD
                t.diff(f"autograd {key}, " + ("conditioned" if conditioned else "amplified"), a, c)
                ok = d <= (AUTOGRAD_REL if conditioned else AUTOGRAD_FACTOR * spread)
            if not ok:
                bad = bad or f"{key}[{k}] {a!r}, reference {c!r}"
    t.check(bad is None, f"{name}: {bad}")


def plan(datasets, infos, rnd, quick):
    runs = []  # (dataset index, run, mode)

    def add(k, how="exact", **kw):
        b0, w0 = infos[k]["init"]
        r = dict(opt="gd", start_lr=1e-4, end_lr=10.0, num_iter=100, mode="exp", smooth_f=0.05,
                 diverge_th=5.0, batch=0, b0=b0, w0=w0)
        r.update(kw)
        runs.append((k, r, how))

    # the cross on the tutorial's data: every optimizer, both modes, full batch and mini-batches,
    # three smoothings, a stopping and a never-stopping threshold
    for opt in OPTS:
        for mode in ("exp", "linear"):
            for batch in (0, 1, 7, 16):
                for smooth_f in (0.0, 0.05, 0.5):
                    for th in (5.0, 1e9):
                        if quick and rnd.random() < 0.8:
                            continue
                        add(0, opt=opt, mode=mode, batch=batch, smooth_f=smooth_f,
                            diverge_th=th, sseed=42)
    # every dataset, random configurations
    for k in range(len(datasets)):
        n_train = infos[k]["n_train"]
        crit = 2.0 / lambdas(infos[k]["mom"])[1]
        for _ in range(6 if quick else 30):
            opt = str(rnd.choice(OPTS))
            start = float(10 ** rnd.uniform(-6, -2)) * (crit if rnd.random() < 0.5 else 1.0)
            end = start * float(10 ** rnd.uniform(0.5, 7))
            kw = dict(opt=opt, start_lr=start, end_lr=end,
                      num_iter=int(rnd.choice([2, 3, 16, 17, 18, 50, 100, 300])),
                      mode=str(rnd.choice(["exp", "linear"])),
                      smooth_f=float(rnd.choice([0.0, 0.05, 0.5, 0.98])),
                      diverge_th=float(rnd.choice([1.0, 1.5, 5.0, 5.0, 1e9])),
                      batch=min(n_train, int(rnd.choice([0, 0, 1, 7, 16, n_train]))))
            if kw["batch"]:
                kw["shuffle"] = 0 if rnd.random() < 0.15 else 1
                kw["sseed"] = int(rnd.choice([42, 0, 4294967295, int(rnd.integers(0, 2**32))]))
            if rnd.random() < 0.5:
                kw["b0"], kw["w0"] = float(rnd.uniform(-3, 3)), float(rnd.uniform(-3, 3))
            if opt in ("momentum", "nesterov") and rnd.random() < 0.4:
                kw["mom"] = float(rnd.choice([0.5, 0.99]))
            if opt in ("adam", "adamw") and rnd.random() < 0.3:
                kw["beta1"], kw["beta2"] = float(rnd.choice([0.5, 0.0])), 0.99
            if opt == "rmsprop" and rnd.random() < 0.3:
                kw["alpha"] = 0.9
            if rnd.random() < 0.2:
                kw["wd"] = float(rnd.choice([0.01, 0.1]))
            if rnd.random() < 0.15:
                kw["skip_start"], kw["skip_end"] = (int(rnd.choice([0, 3])),
                                                    int(rnd.choice([0, 1])))
            add(k, **kw)
    # the defaults on the three datasets of the note, every optimizer
    for k in (0, 1, 2):
        for opt in OPTS:
            add(k, opt=opt)
    # edge cases: a start whose loss overflows stops at iteration 0; a jump past diverge_th at
    # iteration 1; a linear test from far past the critical rate; the fewest points
    add(0, b0=1e200, w0=0.0, _want_stop=0)
    add(0, opt="gd", start_lr=20.0, end_lr=40.0, smooth_f=0.0, _want_stop=1)
    add(0, opt="momentum", start_lr=3.0, end_lr=30.0, mode="linear", smooth_f=0.5)
    add(0, num_iter=2)
    add(0, num_iter=17, diverge_th=1e9, end_lr=0.01)
    add(0, num_iter=16, diverge_th=1e9, end_lr=0.01)
    # the book's way: autograd's gradient on the full batch
    for k in (0, 1, 2):
        for opt in OPTS:
            for mode in ("exp", "linear"):
                add(k, "autograd", opt=opt, mode=mode)
    return runs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("driver")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--quick", action="store_true", help="fewer runs, for development")
    args = ap.parse_args()
    t0 = time.time()
    rnd = np.random.default_rng(args.seed)
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        datasets = make_datasets(tmp, rnd)
        probe = run_driver(args.driver, [f"id={k} {dataset_line(ds)} epochs=0"
                                         for k, ds in enumerate(datasets)])
        infos = []
        for k, ds in enumerate(datasets):
            d = probe[k]
            if d["status"][0] != "OK":
                sys.exit(f"dataset {ds['_name']}: {d['status']}")
            info = parse_data(d)
            rs = np.random.RandomState(ds["seed"])
            info["init"] = tuple(float(v) for v in rs.randn(2))
            infos.append(info)
        runs = plan(datasets, infos, rnd, args.quick)
        lines = []
        for cid, (k, r, mode) in enumerate(runs):
            r["_ds"] = datasets[k]["_name"]
            f = [f"id={cid}", dataset_line(datasets[k]), "task=lrfinder"]
            f += [f"{key}={hx(v) if isinstance(v, float) else v}" for key, v in r.items()
                  if not key.startswith("_")]
            lines.append(" ".join(f))
        got = run_driver(args.driver, lines)
        t1 = time.time()
        stops = suggestions = 0
        for cid, (k, r, mode) in enumerate(runs):
            want = reference(r, infos[k], grad="autograd" if mode == "autograd" else "core")
            if mode == "autograd":
                want["core"] = reference(r, infos[k])
                want["loop"] = reference(r, infos[k], grad="loop")
            stops += want["stopped"] >= 0
            suggestions += want["sugg"] >= 0
            compare(tally, cid, r, got[cid], want, mode)
    print(f"{len(runs)} range tests ({sum(1 for x in runs if x[2] == 'exact')} exact, "
          f"{sum(1 for x in runs if x[2] == 'autograd')} autograd) on {len(datasets)} datasets, "
          f"{stops} stopped early, {suggestions} with a suggestion; driver {t1 - t0:.1f} s, "
          f"torch {time.time() - t1:.1f} s")
    for key in sorted(tally.worst):
        print(f"  largest relative difference, {key}: {tally.worst[key]:.3g}")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
