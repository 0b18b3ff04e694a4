#!/usr/bin/python3
"""Differential test of gdlab's core against numpy and scikit-learn.

Generates random configurations, runs them all through gd_diff_driver (one per stdin line),
computes the same things the tutorial's way -- np.random.seed/rand/randn/shuffle, per-sample
broadcasting for every loss and gradient, np.linspace and np.meshgrid, the epoch loop,
StandardScaler/MinMaxScaler, np.linalg.eigvalsh of the Hessian, LinearRegression for the
optimum -- and asserts:

  * generated data, indices, initial parameters, grids and min-max scaling: bit-identical;
  * every derived number within 1e-12 relative (1e-13 absolute near zero). Where a value is a
    cancellation its tolerance is 1e-12 of the magnitudes that cancel, named at each check: a
    difference of two losses (geometric gradients) against those losses; gradients, which vanish
    at the optimum, against sqrt(L)*(1 + rms(x)); b* against |w* x_mean|; standardized x against
    (|x| + |mean|)/std; eigvalsh's lambda_min against lambda_max (a symmetric eigensolver is only
    accurate norm-wise; lambda_min and the condition number are also held to 1e-12 relative
    against det(H)/lambda_max with det(H) = 4 var(x));
  * a training run's parameters, losses and history to max(1e-12, 16 eps x epochs) relative: both
    sides round every epoch, and near or past the critical rate the roundings accumulate;
  * statuses, epochs run, diverged_at and history epochs: exactly. A diverging run is compared
    while the per-sample reference stays finite; where the per-sample mean overflows before the
    core's quadratic form does (its sum overflows at 1.8e308/n), the core must stop no earlier.

Usage: diff_numpy.py DRIVER [--configs N] [--seed S] [--keep DIR]
Run with Debian's python3 (python3-numpy, python3-sklearn).
"""
import argparse
import collections
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import MinMaxScaler, StandardScaler

REL = 1e-12
ABS = 1e-13
EPS = 2.0 ** -52
U32 = 4294967295


def hx(v):
    return float(v).hex()


def parse_float(s):
    try:
        return float.fromhex(s)
    except ValueError:
        return float(s)  # inf, -inf, nan


# ---------------------------------------------------------------------------------------------
# Configurations


def tutorial_data(seed, n, tb, tw, noise, m):
    np.random.seed(seed)
    x = np.random.rand(n) * m
    eps = noise * np.random.randn(n)
    y = tb + (tw / m) * x + eps
    idx = np.arange(n)
    np.random.shuffle(idx)
    return x, y, idx


def make_configs(count, seed, tmpdir):
    """Fixed configurations that matter (the tutorial's, the boundaries), then random ones."""
    rnd = np.random.default_rng(seed)
    cfgs = []

    def add(**kw):
        base = dict(seed=42, n=100, tb=1.0, tw=2.0, noise=0.1, m=1.0, frac=0.8, scaler="none")
        base.update(kw)
        base["id"] = len(cfgs)
        cfgs.append(base)

    # the tutorial: original, the bad feature, standardized, min-max
    add()
    add(m=10.0)
    add(scaler="standard")
    add(m=10.0, scaler="standard")
    add(scaler="minmax")
    # boundary seeds, n = 2, zero noise, extreme multipliers, splits
    for s in (0, U32, 1, 2**31):
        add(seed=s)
    add(seed=0, n=2, frac=0.5)
    add(seed=U32, n=2, frac=0.99)
    add(seed=7, n=3, frac=0.5)
    add(noise=0.0)
    add(noise=0.0, m=-10.0, scaler="standard")
    add(m=0.001)
    add(m=-0.001, scaler="minmax")
    add(m=-1.0)
    add(n=100000, seed=U32)
    add(n=100000, seed=0, m=10.0, scaler="standard")
    # configurations the core must refuse
    add(frac=0.0, expect="ESPLIT")
    add(frac=1.0, expect="ESPLIT")
    add(n=2, frac=0.4, expect="ESPLIT")
    add(noise=-0.1, expect="EINVAL")
    add(m=0.0, expect="EINVAL")
    add(tb=float("nan"), expect="EINVAL")
    add(tb=1e308, tw=1e308, expect="ENONFINITE")
    add(noise=1e308, expect="ENONFINITE")
    # inline data: a tie for the default range (optimum exactly 0.25 and 0.5 -> np.round is half
    # to even), x far from 0, a constant feature, a negative multiplier
    xs = np.arange(8, dtype=float)
    inline = [
        (xs, 0.25 + 0.5 * xs, 1.0, 0.5, "none"),
        (xs, 0.35 + 0.25 * xs, 1.0, 0.75, "none"),
        (1e6 + np.linspace(0, 1000, 40) ** 1.5 / 31, np.cos(np.arange(40.0)), 1.0, 0.7, "none"),
        (np.full(10, 3.0), np.arange(10.0), 1.0, 0.6, "standard"),
        (np.full(10, 0.1), np.arange(10.0) * 0.3, 1.0, 0.6, "none"),
        (rnd.normal(5, 2, 50), rnd.normal(0, 1, 50), -2.5, 0.8, "minmax"),
        (rnd.uniform(-1e3, 1e3, 500), rnd.uniform(-1, 1, 500), 0.001, 0.5, "none"),
        (np.array([1.0, 2.0, 1e300]), np.array([0.0, 1.0, 2.0]), 1e10, 0.5, "none"),  # x*m overflows
    ]
    for k, (x, y, m, frac, scaler) in enumerate(inline):
        path = os.path.join(tmpdir, f"inline{k}.txt")
        with open(path, "w") as f:
            for a, b in zip(x, y):
                f.write(f"{hx(a)} {hx(b)}\n")
        add(seed=int(rnd.integers(0, U32 + 1)), n=len(x), m=m, frac=frac, scaler=scaler,
            data=path, inline_x=np.array(x, dtype=float), inline_y=np.array(y, dtype=float))

    multipliers = [1.0, 10.0, 0.001, -1.0, -10.0, 0.5, 3.0, -0.001, 100.0]
    while len(cfgs) < count:
        n = int(round(10 ** rnd.uniform(math.log10(2), 5)))
        if rnd.random() < 0.6:  # many small ones, and log-uniform up to 1e5
            n = int(rnd.integers(2, 40))
        seed_choice = rnd.random()
        s = 0 if seed_choice < 0.05 else U32 if seed_choice < 0.1 else int(rnd.integers(0, U32 + 1))
        m = multipliers[int(rnd.integers(len(multipliers)))]
        if rnd.random() < 0.15:
            m = float(rnd.uniform(-20, 20))
        noise = [0.0, 0.1, 1.0, float(rnd.uniform(0, 2))][int(rnd.integers(4))]
        add(seed=s, n=n, tb=float(rnd.uniform(-5, 5)), tw=float(rnd.uniform(-5, 5)), noise=noise,
            m=m, frac=float(rnd.uniform(0.05, 0.95)),
            scaler=["none", "standard", "minmax"][int(rnd.integers(3))])
    for c in cfgs:
        c["rnd"] = np.random.default_rng([seed, c["id"]])
    return cfgs


# ---------------------------------------------------------------------------------------------
# The reference, the tutorial's way


def per_sample(x, y, b, w):
    """Loss and gradients by broadcasting over the samples, as the tutorial computes them."""
    yhat = b + w * x
    error = yhat - y
    loss = (error ** 2).mean()
    b_grad = 2 * error.mean()
    w_grad = 2 * (x * error).mean()
    return float(loss), float(b_grad), float(w_grad)


def split_size(n, frac):
    if not (0.0 < frac < 1.0):
        return None
    k = int(n * frac)
    return k if 1 <= k < n else None


def reference_data(c):
    if "data" in c:
        x = c["inline_x"] * c["m"]
        y = c["inline_y"].copy()
        np.random.seed(c["seed"])
        idx = np.arange(c["n"])
        np.random.shuffle(idx)
        return x, y, idx
    return tutorial_data(c["seed"], c["n"], c["tb"], c["tw"], c["noise"], c["m"])


def plan_extras(c, ref):
    """Points, grid, cross-section and runs for one configuration, from its reference data."""
    rnd = c["rnd"]
    xt, yt = ref["xs"][ref["train"]], ref["y"][ref["train"]]
    b0, w0 = ref["init"]
    pts = [(b0, w0), (0.0, 0.0), (float(rnd.uniform(-5, 5)), float(rnd.uniform(-5, 5)))]
    if ref["b_opt"] is not None:
        pts.append((ref["b_opt"], ref["w_opt"]))
        bc, wc = float(np.round(ref["b_opt"], 1)), float(np.round(ref["w_opt"], 1))
    else:
        bc, wc = 0.0, 0.0
    n = len(ref["x"])
    big = n * len(xt) > 2e8 or len(xt) > 20000
    nb = int(rnd.integers(26, 36)) if not big else 26
    nw = int(rnd.integers(26, 36)) if not big else 27
    grid = (bc - 3.0, bc + 3.0, nb, wc - 3.0, wc + 3.0, nw)
    step = 6.0 / (nb - 1)
    delta = float(rnd.choice([0.12, step * rnd.uniform(0.3, 3.0), -0.12]))
    snap = int(rnd.random() < 0.8)
    cs = (b0, w0, delta, snap)
    runs = []
    crit = ref["lr_critical"]
    if not math.isfinite(crit) or crit <= 0:
        crit = 0.1
    cost = max(1, len(xt))
    for _ in range(int(rnd.integers(2, 5))):
        factor = float(rnd.choice([0.05, 0.3, 0.5, 0.9, 0.999, 1.01, 1.2, 3.0, 40.0]))
        epochs = int(rnd.choice([0, 1, 2, 10, 100, 300, 1000]))
        epochs = min(epochs, max(1, int(2e6 // cost)))  # the per-sample loop is O(n) an epoch
        tol = float(rnd.choice([0.0, 0.0, 1e-3, 1e-8]))
        hmax = int(rnd.choice([1, 2, 3, 7, 50, 2000]))
        start = (b0, w0) if rnd.random() < 0.7 else (float(rnd.uniform(-3, 3)),
                                                     float(rnd.uniform(-3, 3)))
        runs.append((factor * crit, epochs, tol, hmax, start[0], start[1]))
    return pts, grid, cs, runs


def config_line(c, pts, grid, cs, runs):
    f = [f"id={c['id']}", f"seed={c['seed']}", f"n={c['n']}", f"tb={hx(c['tb'])}",
         f"tw={hx(c['tw'])}", f"noise={hx(c['noise'])}", f"m={hx(c['m'])}",
         f"frac={hx(c['frac'])}", f"scaler={c['scaler']}"]
    if "data" in c:
        f.append(f"data={c['data']}")
    for b, w in pts:
        f.append(f"pt={hx(b)},{hx(w)}")
    if grid:
        f.append("grid=" + ",".join(hx(v) for v in grid))
        f.append("cs=" + ",".join(hx(v) for v in cs))
    for r in runs:
        f.append("run=" + ",".join(hx(v) for v in r))
    return " ".join(f)


def reference(c):
    """Everything but the extras: data, split, initial parameters, scaler, analysis."""
    ref = {}
    n = c["n"]
    if not (math.isfinite(c["tb"]) and math.isfinite(c["tw"]) and math.isfinite(c["noise"])
            and math.isfinite(c["m"]) and c["noise"] >= 0 and c["m"] != 0 and n >= 2):
        ref["status"] = "EINVAL"
        return ref
    k = split_size(n, c["frac"])
    if k is None:
        ref["status"] = "ESPLIT"
        return ref
    x, y, idx = reference_data(c)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        ref["status"] = "ENONFINITE"  # finite parameters whose data overflows
        return ref
    ref["status"] = "OK"
    ref.update(x=x, y=y, idx=idx, n_train=k, train=idx[:k], val=idx[k:])
    np.random.seed(c["seed"])
    b = np.random.randn(1)
    w = np.random.randn(1)
    ref["init"] = (float(b[0]), float(w[0]))
    xtr = x[idx[:k]].reshape(-1, 1)
    if c["scaler"] == "standard":
        sc = StandardScaler().fit(xtr)
        ref["scaler"] = ("standard", float(sc.mean_[0]), float(sc.scale_[0]))
        ref["xs"] = sc.transform(x.reshape(-1, 1)).ravel()
    elif c["scaler"] == "minmax":
        sc = MinMaxScaler().fit(xtr)
        ref["scaler"] = ("minmax", float(sc.data_min_[0]), float(sc.data_max_[0]),
                         float(sc.scale_[0]))
        ref["xs"] = sc.transform(x.reshape(-1, 1)).ravel()
    else:
        ref["scaler"] = ("none",)
        ref["xs"] = x
    xt, yt = ref["xs"][idx[:k]], y[idx[:k]]
    # analysis: LinearRegression for the optimum, eigvalsh of the per-sample Hessian
    H = 2 * np.array([[1.0, xt.mean()], [xt.mean(), (xt * xt).mean()]])
    ev = np.linalg.eigvalsh(H)
    ref["lambda"] = (float(ev[0]), float(ev[1]))
    ref["det"] = 4 * float(np.var(xt))
    ref["lr_critical"] = 2 / float(ev[1])
    ref["degenerate"] = bool(np.ptp(xt) == 0)
    if ref["degenerate"]:
        ref["b_opt"] = ref["w_opt"] = None
    else:
        lr = LinearRegression().fit(xt.reshape(-1, 1), yt)
        ref["b_opt"], ref["w_opt"] = float(lr.intercept_), float(lr.coef_[0])
        ref["loss_opt"] = per_sample(xt, yt, ref["b_opt"], ref["w_opt"])[0]
    return ref


def reference_run(xt, yt, xv, yv, run):
    """The epoch loop, per sample: the statuses, the samples of the history, where it stops."""
    lr, epochs, tol, hmax, b, w = run
    epochs, hmax = int(epochs), int(hmax)
    planned = 0 if hmax == 0 else 1 if (hmax == 1 or epochs == 0) else min(epochs + 1, hmax)
    sample = [epochs] if planned == 1 else [k * epochs // (planned - 1) for k in range(planned)]
    want = set(sample)
    loss0 = per_sample(xt, yt, b, w)[0]
    hist, above, status, overflow = [], -1, "max_epochs", False
    e = 0
    while True:
        loss, gb, gw = per_sample(xt, yt, b, w)
        if not math.isfinite(loss):
            status, overflow = "diverged", True
            above = e if above < 0 else above
            break
        if e in want:
            hist.append((e, b, w, loss, per_sample(xv, yv, b, w)[0]))
        if above < 0 and loss > loss0:
            above = e
        if tol > 0 and gb * gb + gw * gw <= tol * tol:
            status = "converged"
            break
        if e == epochs:
            break
        b, w = b - lr * gb, w - lr * gw
        e += 1
    if planned and (not hist or hist[-1][0] != e):
        hist.append((e, b, w, loss, per_sample(xv, yv, b, w)[0]))
    if status == "max_epochs" and loss > loss0:
        status = "diverged"
    return dict(status=status, epochs=e, diverged_at=above if status == "diverged" else -1,
                b=b, w=w, loss=loss, val=per_sample(xv, yv, b, w)[0], gb=gb, gw=gw, hist=hist,
                overflow=overflow)


# ---------------------------------------------------------------------------------------------
# Comparison


class Checker:
    def __init__(self):
        self.failures = []
        self.checks = 0
        self.cfg = None
        self.runs = collections.Counter()

    def fail(self, what, got, want):
        self.failures.append((self.cfg["id"], what, got, want))

    def close(self, what, got, want, rel=REL, abs_=ABS, scale=None):
        """|got - want| <= rel*max(|want|, scale) + abs: scale for differences and near-zeros."""
        self.checks += 1
        if got == want or (math.isnan(got) and math.isnan(want)):
            return True
        mag = abs(want) if scale is None else max(abs(want), scale)
        if math.isfinite(got) and math.isfinite(want) and abs(got - want) <= rel * mag + abs_:
            return True
        self.fail(what, got, want)
        return False

    def bits(self, what, got, want):
        self.checks += 1
        g = np.asarray(got, dtype=np.float64)
        wv = np.asarray(want, dtype=np.float64)
        if g.shape != wv.shape:
            self.fail(what + " (shape)", g.shape, wv.shape)
            return False
        bad = np.flatnonzero(g.view(np.uint64) != wv.view(np.uint64))
        if bad.size:
            i = int(bad[0])
            self.fail(f"{what}[{i}] (bits; {bad.size} differ)", float(g.flat[i]).hex(),
                      float(wv.flat[i]).hex())
            return False
        return True

    def array_close(self, what, got, want, scale=None, rel=REL):
        self.checks += 1
        g, wv = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
        if g.shape != wv.shape:
            self.fail(what + " (shape)", g.shape, wv.shape)
            return False
        mag = np.abs(wv) if scale is None else np.maximum(np.abs(wv), scale)
        with np.errstate(invalid="ignore"):
            ok = (g == wv) | (np.abs(g - wv) <= rel * mag + ABS)
        bad = np.flatnonzero(~ok)
        if bad.size:
            i = int(bad[0])
            self.fail(f"{what}[{i}] ({bad.size} differ)", float(g.flat[i]), float(wv.flat[i]))
            return False
        return True

    def equal(self, what, got, want):
        self.checks += 1
        if got != want:
            self.fail(what, got, want)
            return False
        return True


def parse_output(text):
    out, cur = {}, None
    for line in text.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "cfg":
            cur = {"runs": []}
            out[int(rest)] = cur
        elif kind == "end":
            cur = None
        elif kind == "run":
            f = rest.split()
            cur["runs"].append({"rc": f[1], "f": f[2:], "hist": {}})
        elif kind == "point":
            cur.setdefault("points", []).append(rest.split())
        elif kind.startswith("hist_"):
            cur["runs"][-1]["hist"][kind] = rest.split()
        else:
            cur[kind] = rest.split()
    return out


def floats(fields):
    try:
        return np.fromiter(map(float.fromhex, fields), dtype=np.float64, count=len(fields))
    except ValueError:  # inf or nan among them
        return np.array([parse_float(s) for s in fields], dtype=np.float64)


def check_config(ck, c, ref, got, extras):
    ck.cfg = c
    status = got.get("status", ["?"])[0]
    if not ck.equal("status", status, ref["status"]):
        return
    if "expect" in c:
        ck.equal("expected status", status, c["expect"])
    if status != "OK":
        return
    # data: bit for bit
    ck.bits("x", floats(got["x"]), ref["x"])
    ck.bits("y", floats(got["y"]), ref["y"])
    ck.equal("idx", [int(v) for v in got["idx"]], [int(v) for v in ref["idx"]])
    ck.equal("n_train", int(got["n_train"][0]), ref["n_train"])
    ck.bits("init", floats(got["init"]), np.array(ref["init"]))
    ck.equal("problem_status", got["problem_status"][0], "OK")
    # scaler
    sc = got["scaler"]
    ck.equal("scaler kind", sc[0], ref["scaler"][0])
    mean, std, mn, mx, scale = (parse_float(v) for v in sc[1:6])
    xs = floats(got["xs"]) if "xs" in got else floats(got["x"])
    if ref["scaler"][0] == "standard":
        ck.close("scaler mean", mean, ref["scaler"][1], abs_=ABS * std)
        ck.close("scaler std", std, ref["scaler"][2])
        # (x - mean)/std: an ulp of the mean moves z by (|x| + |mean|) ulp / std
        cond = (np.abs(ref["x"]) + abs(mean)) / std
        ck.array_close("xs (standard)", xs, ref["xs"], scale=cond * 1e-3)
    elif ref["scaler"][0] == "minmax":
        ck.bits("scaler min/max/scale", np.array([mn, mx, scale]), np.array(ref["scaler"][1:]))
        ck.bits("xs (minmax)", xs, ref["xs"])
    tr, va = ref["train"], ref["val"]
    xt, yt, xv, yv = ref["xs"][tr], ref["y"][tr], ref["xs"][va], ref["y"][va]
    # moments against numpy's mean and var
    for kind, xa, ya in (("moments_train", xt, yt), ("moments_val", xv, yv)):
        mo = floats(got[kind])
        sx, sy = float(np.std(xa)), float(np.std(ya))
        ck.close(kind + " x_mean", mo[0], float(np.mean(xa)), abs_=ABS * (1 + sx))
        ck.close(kind + " y_mean", mo[1], float(np.mean(ya)), abs_=ABS * (1 + sy))
        # numpy's mean is off by ulps, which np.var then squares: (eps*mean)^2 is its noise
        mean_noise = (4 * EPS * float(np.mean(np.abs(xa)))) ** 2
        ck.close(kind + " cxx", mo[2], float(np.var(xa)), abs_=ABS * sx * sx + mean_noise)
        cxy = float(np.mean((xa - xa.mean()) * (ya - ya.mean())))
        ck.close(kind + " cxy", mo[3], cxy, scale=sx * sy)
        ck.close(kind + " cyy", mo[4], float(np.var(ya)), abs_=ABS * sy * sy)
    # analysis
    an = got["analysis"]
    a = [parse_float(v) for v in an[1:]]
    b_opt, w_opt, loss_opt, lmin, lmax, cond, crit, opt = a
    lam = ref["lambda"]
    ck.close("lambda_max", lmax, lam[1])
    ck.close("lambda_min (norm-wise)", lmin, lam[0], scale=lam[1])
    if ref["degenerate"]:
        ck.equal("analysis status", an[0], "EDEGENERATE")
        ck.close("lambda_min (degenerate)", lmin, 0.0)
    else:
        ck.equal("analysis status", an[0], "OK")
        lmin_exact = ref["det"] / lam[1]
        ck.close("lambda_min (det/lambda_max)", lmin, lmin_exact)
        ck.close("condition", cond, lam[1] / lmin_exact)
        ck.close("lr_critical", crit, 2 / lam[1])
        ck.close("lr_optimal", opt, 2 / (lmin_exact + lam[1]))
        sy = float(np.std(yt))
        ck.close("w_opt", w_opt, ref["w_opt"], abs_=ABS * sy / max(float(np.std(xt)), 1e-300))
        ck.close("b_opt", b_opt, ref["b_opt"], abs_=ABS * (1 + sy), scale=abs(w_opt * xt.mean()))
        ck.close("loss_opt", loss_opt, ref["loss_opt"], abs_=ABS * float(np.var(yt)))
        # default ranges: np.round(v, 1) +- 3, wherever the core's optimum is numpy's bit for bit
        rg = [parse_float(v) for v in got["range"]]
        for name, core_v, ref_v, lo, hi in (("b", b_opt, ref["b_opt"], rg[0], rg[1]),
                                            ("w", w_opt, ref["w_opt"], rg[2], rg[3])):
            r = float(np.round(core_v, 1))
            ck.bits(f"default range {name} (np.round of the core's optimum)",
                    np.array([lo, hi]), np.array([r - 3.0, r + 3.0]))
    ck.equal("point count", len(got.get("points", [])), len(extras["pts"]))
    check_points(ck, got, extras, xt, yt, xv, yv)
    check_surface(ck, got, extras, xt, yt)
    check_runs(ck, got, extras, xt, yt, xv, yv)


def check_points(ck, got, extras, xt, yt, xv, yv):
    for k, fields in enumerate(got.get("points", [])):
        b, w, loss, gb, gw, vloss = (parse_float(v) for v in fields)
        rl, rgb, rgw = per_sample(xt, yt, b, w)
        # gradients vanish at the optimum: absolute error relative to the residual scale
        gscale = math.sqrt(rl) * (1 + float(np.sqrt(np.mean(xt * xt))))
        ck.close(f"point {k} loss", loss, rl)
        ck.close(f"point {k} grad_b", gb, rgb, scale=gscale)
        ck.close(f"point {k} grad_w", gw, rgw, scale=gscale)
        ck.close(f"point {k} val loss", vloss, per_sample(xv, yv, b, w)[0])


def surface_reference(xt, yt, bg, wg):
    """mean((b + w*x - y)^2) over a meshgrid, a row of w at a time (memory stays small)."""
    Bs, Ws = np.meshgrid(bg, wg)
    out = np.empty(Bs.shape)
    for i in range(Bs.shape[0]):
        yhat = Bs[i][:, None] + Ws[i][:, None] * xt[None, :]
        out[i] = ((yhat - yt[None, :]) ** 2).mean(axis=1)
    return out


def check_surface(ck, got, extras, xt, yt):
    blo, bhi, nb, wlo, whi, nw = extras["grid"]
    bg, wg = np.linspace(blo, bhi, int(nb)), np.linspace(wlo, whi, int(nw))
    ck.bits("grid_b (np.linspace)", floats(got["grid_b"]), bg)
    ck.bits("grid_w (np.linspace)", floats(got["grid_w"]), wg)
    ref = surface_reference(xt, yt, bg, wg)
    surf = floats(got["surface"]).reshape(len(wg), len(bg))
    ck.array_close("surface", surf, ref)
    sm = got["surface_min"]
    bi, wi = int(sm[0]), int(sm[1])
    rwi, rbi = np.unravel_index(np.argmin(ref), ref.shape)
    if (bi, wi) != (rbi, rwi):
        # only a near-tie may pick another point; and then the values must be that near
        ck.close("surface min (near tie)", float(ref[wi, bi]), float(ref[rwi, rbi]))
    ck.close("surface min loss", parse_float(sm[4]), float(ref[rwi, rbi]))
    # cross-section at the point, the tutorial's way
    b, w, delta, snap = extras["cs"]
    ib, iw = int(np.argmin(np.abs(bg - b))), int(np.argmin(np.abs(wg - w)))
    bs, ws = (bg[ib], wg[iw]) if snap else (b, w)
    to_b = bg[np.argmin(np.abs(bg - (bs + delta)))] if snap else bs + delta
    to_w = wg[np.argmin(np.abs(wg - (ws + delta)))] if snap else ws + delta
    if to_b == bs or to_w == ws:
        ck.equal("cross_status (step snaps back)", got["cross_status"][0], "EINVAL")
        return
    if not ck.equal("cross_status", got["cross_status"][0], "OK"):
        return
    cs = got["cross"]
    ck.equal("cross indices", (int(cs[0]), int(cs[1])), (ib, iw))
    ck.bits("cross point", floats(cs[2:4]), np.array([bs, ws]))
    l0, _, _ = per_sample(xt, yt, bs, ws)
    ck.close("cross loss", parse_float(cs[4]), l0)
    rl, rgb, rgw = per_sample(xt, yt, b, w)
    gscale = math.sqrt(rl) * (1 + float(np.sqrt(np.mean(xt * xt))))
    ck.close("cross grad_b", parse_float(cs[5]), rgb, scale=gscale)
    ck.close("cross grad_w", parse_float(cs[6]), rgw, scale=gscale)
    for name, fields, frm, to, lto in (
            ("geo_b", got["geo_b"], bs, to_b, per_sample(xt, yt, to_b, ws)[0]),
            ("geo_w", got["geo_w"], ws, to_w, per_sample(xt, yt, bs, to_w)[0])):
        g = [parse_float(v) for v in fields]
        ck.bits(name + " from/to/delta", np.array(g[0:3]), np.array([frm, to, to - frm]))
        dl = lto - l0
        # a difference of two losses: 1e-12 of the losses it subtracts
        ck.close(name + " delta_loss", g[3], dl, scale=max(abs(lto), abs(l0)))
        ck.close(name + " gradient", g[4], dl / (to - frm),
                 scale=max(abs(lto), abs(l0)) / abs(to - frm))
    ref_w = np.array([per_sample(xt, yt, bs, v)[0] for v in wg])
    ref_b = np.array([per_sample(xt, yt, v, ws)[0] for v in bg])
    ck.array_close("cross_w (b fixed)", floats(got["cross_w"]), ref_w)
    ck.array_close("cross_b (w fixed)", floats(got["cross_b"]), ref_b)


def check_runs(ck, got, extras, xt, yt, xv, yv):
    if not ck.equal("run count", len(got["runs"]), len(extras["runs"])):
        return
    for k, (run, out) in enumerate(zip(extras["runs"], got["runs"])):
        tag = f"run {k} (lr {run[0]:.6g}, epochs {int(run[1])}, tol {run[2]:g}, hmax {int(run[3])})"
        if not ck.equal(tag + " rc", out["rc"], "OK"):
            continue
        ref = reference_run(xt, yt, xv, yv, run)
        f = out["f"]
        status, epochs, div_at = f[0], int(f[1]), int(f[2])
        b, w, tl, vl, gb, gw = (parse_float(v) for v in f[3:9])
        ck.runs[ref["status"] + (" (overflow)" if ref["overflow"] else "")] += 1
        if ref["overflow"] and epochs != ref["epochs"]:
            ck.runs["overflow, core stopped later"] += 1
        ck.equal(tag + " status", status, ref["status"])
        ck.equal(tag + " diverged_at", div_at, ref["diverged_at"])
        hist = out["hist"]
        he = [int(v) for v in hist["hist_epoch"]]
        # both sides round every epoch, and along a slowly contracting or a diverging direction
        # those roundings add up instead of dying out: 16 eps an epoch bounds what they can add
        rel = max(REL, 16 * EPS * ref["epochs"])
        if ref["overflow"]:
            # the per-sample mean overflowed first; the core stops there or later
            ck.checks += 1
            if epochs < ref["epochs"]:
                ck.fail(tag + " epochs (overflow)", epochs, f">= {ref['epochs']}")
            finite = [h for h in ref["hist"] if math.isfinite(h[3])]
            rhe = [h[0] for h in finite]
            ck.equal(tag + " history epochs (finite part)", he[:len(rhe)], rhe)
            rows = finite
        else:
            ck.equal(tag + " epochs", epochs, ref["epochs"])
            ck.equal(tag + " history epochs", he, [h[0] for h in ref["hist"]])
            rows = ref["hist"]
            ck.close(tag + " b", b, ref["b"], rel=rel, scale=1 + abs(ref["w"]))
            ck.close(tag + " w", w, ref["w"], rel=rel, scale=1 + abs(ref["b"]))
            ck.close(tag + " train loss", tl, ref["loss"], rel=rel)
            ck.close(tag + " val loss", vl, ref["val"], rel=rel)
            gscale = math.sqrt(ref["loss"]) * (1 + float(np.sqrt(np.mean(xt * xt))))
            ck.close(tag + " grad_b", gb, ref["gb"], rel=rel, scale=gscale)
            ck.close(tag + " grad_w", gw, ref["gw"], rel=rel, scale=gscale)
        n = min(len(rows), len(he))
        if n:
            hb, hw = floats(hist["hist_b"])[:n], floats(hist["hist_w"])[:n]
            htl, hvl = floats(hist["hist_train"])[:n], floats(hist["hist_val"])[:n]
            rb = np.array([r[1] for r in rows[:n]])
            rw = np.array([r[2] for r in rows[:n]])
            mag = 1 + np.abs(rb) + np.abs(rw)
            ck.array_close(tag + " history b", hb, rb, scale=mag, rel=rel)
            ck.array_close(tag + " history w", hw, rw, scale=mag, rel=rel)
            ck.array_close(tag + " history train loss", htl, np.array([r[3] for r in rows[:n]]),
                           rel=rel)
            ck.array_close(tag + " history val loss", hvl, np.array([r[4] for r in rows[:n]]),
                           rel=rel)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("driver")
    ap.add_argument("--configs", type=int, default=240)
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--keep", help="write the configurations and the driver's output here")
    args = ap.parse_args()
    t0 = time.monotonic()
    np.seterr(all="ignore")  # diverging runs overflow on purpose; the checks look at the values
    with tempfile.TemporaryDirectory(prefix="gdlab-diff-") as tmp:
        cfgs = make_configs(args.configs, args.seed, tmp)
        refs, lines, extras = {}, [], {}
        for c in cfgs:
            ref = reference(c)
            refs[c["id"]] = ref
            ex = {"pts": [], "grid": None, "cs": None, "runs": []}
            if ref["status"] == "OK":
                pts, grid, cs, runs = plan_extras(c, ref)
                ex = {"pts": pts, "grid": grid, "cs": cs, "runs": runs}
            extras[c["id"]] = ex
            lines.append(config_line(c, ex["pts"], ex["grid"], ex["cs"], ex["runs"]))
        stdin = "\n".join(lines) + "\n"
        proc = subprocess.run([args.driver], input=stdin, capture_output=True, text=True)
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            with open(os.path.join(args.keep, "configs.txt"), "w") as f:
                f.write(stdin)
            with open(os.path.join(args.keep, "driver.out"), "w") as f:
                f.write(proc.stdout)
        if proc.returncode != 0:
            print(f"diff: driver exited {proc.returncode}: {proc.stderr.strip()}")
            return 1
        outputs = parse_output(proc.stdout)
        ck = Checker()
        for c in cfgs:
            got = outputs.get(c["id"])
            if got is None:
                ck.cfg = c
                ck.fail("driver output", "missing", "present")
                continue
            check_config(ck, c, refs[c["id"]], got, extras[c["id"]])
    failed = sorted({f[0] for f in ck.failures})
    for cid, what, g, w in ck.failures[:20]:
        c = cfgs[cid]
        desc = " ".join(f"{k}={c[k]}" for k in ("seed", "n", "m", "noise", "frac", "scaler"))
        print(f"MISMATCH config {cid} ({desc}{' inline' if 'data' in c else ''}): {what}: "
              f"got {g}, want {w}")
    print("runs by reference status: " + ", ".join(f"{k} {v}" for k, v in sorted(ck.runs.items())))
    print(f"diff: {len(cfgs)} configs, {len(failed)} failed ({ck.checks} checks, "
          f"{len(ck.failures)} mismatches, {time.monotonic() - t0:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
