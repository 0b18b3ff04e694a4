#!/usr/bin/python3
"""Differential test of gdlab's optimizers, mini-batches and schedules against torch.optim.

Plans hundreds of runs -- every optimizer (gd, momentum, nesterov, adagrad, rmsprop, adam,
adamw) x batch size (full, 1, 7, 16, n_train) x schedule (constant, step, exponential, cosine,
onecycle) on the tutorial's data, and random combinations on the x10 feature, the standardized
feature, other seeds, n, noise and inline data, with weight decay, other hyperparameters, tol and
both history units -- runs them all through gd_optim_driver (one per stdin line), and repeats each
with torch 1.13's own optimizer and scheduler classes (float64, CPU, one thread):

    p = torch.tensor([b0, w0]); opt = torch.optim.<Class>([p], ...); sched = <Scheduler>(opt, ...)
    for epoch: for batch: p.grad = gradient; opt.step(); [onecycle: sched.step()]
               [step, exponential, cosine: sched.step()]

The gradient the reference hands torch is computed the way the core computes it, so that the
test sees the optimizers' and schedulers' arithmetic and nothing else:
  * full batch: from the training moments the driver prints, by the core's formulas
    (dL/db = -2 r0, dL/dw = 2 cxx (w - w*) - 2 x_mean r0, r0 = y_mean - w x_mean - b);
  * a mini-batch: an explicit Python loop over the batch's rows in order, e = b + w x - y,
    sum(e) and sum(x e), then 2*sum/n (torch's own reductions vectorise and reassociate; a
    sequential loop is the order a C loop can reproduce, and the one the core documents);
  * the batches: numpy.random.RandomState(shuffle_seed).permutation(n_train) before every epoch,
    consecutive slices of it over the split's rows (DataLoader, drop_last=False).
Each of the core's updates is then the torch kernel's, fused multiply-adds included, so:

  * every parameter, loss and learning rate of every history point, and the final state, must be
    bit-identical -- including Adam near its fixed point, where a last-bit difference in a tiny
    gradient flips a step of about +-lr and the runs would otherwise drift apart (chaotic);
  * the one exception is gd at a constant rate on the full batch without weight decay: the core
    keeps the tutorial's loop there (b - lr*g, two roundings, byte-identical to gd_train), where
    torch's add_(alpha) is one fused multiply-add. Its parameters must agree to
    max(1e-12, 16 eps x epochs) relative, as in diff_numpy.py: the difference starts at the last
    bit and near the critical rate it accumulates over the epochs;
  * statuses, epochs and steps run, diverged_at and the history's times: exactly, with the
    divergence rule of optim.h re-implemented here (spectral radius from numpy.roots).

A second, smaller set ("autograd") takes the full-batch gradient the book's way instead, from
torch's autograd of ((b + w x - y)**2).mean() over the training rows, whose summation order is
torch's and not the moments': it differs from the core's gradient in the last bits. Parameters
must then agree to 1e-12 relative (of |p| + 1e-3) while the run contracts: for gd, momentum and
nesterov (linear iterations, which damp any difference) at every history point whose excess
loss L - L* is above 1e-6 L*; for the adaptive optimizers only over the history's first points,
up to the first whose excess loss does not fall below the previous one's. From there on the
adaptive runs are chaotic: their steps are about lr*sign(g) whatever the size of g (Adam's and
RMSprop's sqrt(v) normalises it away), so a last-bit difference of a gradient near zero changes
the next step completely, and two exact implementations wander apart inside the same
neighbourhood of the optimum (seen: 3e-3 relative in w for RMSprop at lr 0.01). There the core's
excess loss is only held within twice the largest of torch's over the same points.

Prints one line per failure and a closing line "N passed, M failed".

Usage: diff_torch.py DRIVER [--seed S] [--quick] [--keep DIR]
Run with Debian's python3 (python3-numpy, python3-torch).
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

EPS = 2.0 ** -52
OPTS = ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]
SCHEDS = ["constant", "step", "exponential", "cosine", "onecycle"]
DIVERGE_FACTOR, DIVERGE_GROWTH, DIVERGE_WINDOW = 1e8, 2.0, 10


def hx(v):
    return float(v).hex()


def pf(s):
    try:
        return float.fromhex(s)
    except ValueError:
        return float(s)


# ---------------------------------------------------------------------------------------------
# The driver


def run_driver(driver, lines):
    r = subprocess.run([driver], input="\n".join(lines) + "\n", capture_output=True, text=True,
                       timeout=1200)
    if r.returncode != 0:
        sys.exit(f"driver failed ({r.returncode}): {r.stderr}")
    out, cur = {}, None
    for line in r.stdout.splitlines():
        kind, _, rest = line.partition(" ")
        if kind == "cfg":
            cur = out.setdefault(int(rest), {})
        elif kind == "end":
            cur = None
        else:
            cur[kind] = rest.split()
    return out


def dataset_line(ds):
    keys = ("seed", "n", "tb", "tw", "noise", "m", "frac", "scaler", "data")
    return " ".join(f"{k}={ds[k] if isinstance(ds[k], (int, str)) else hx(ds[k])}"
                    for k in keys if k in ds)


def run_line(cid, ds, r):
    f = [f"id={cid}", dataset_line(ds)]
    for k, v in r.items():
        if k.startswith("_"):
            continue
        f.append(f"{k}={hx(v) if isinstance(v, float) else v}")
    return " ".join(f)


# ---------------------------------------------------------------------------------------------
# Configurations


def make_datasets(tmpdir, rnd):
    base = dict(seed=42, n=100, tb=1.0, tw=2.0, noise=0.1, m=1.0, frac=0.8, scaler="none")
    out = []

    def add(name, **kw):
        d = dict(base, **kw)
        d["_name"] = name
        out.append(d)

    add("tutorial")
    add("x10", m=10.0)
    add("standardized", scaler="standard")
    add("x10 standardized", m=10.0, scaler="standard")
    add("seed 0", seed=0)
    add("seed 7 n 37", seed=7, n=37)
    add("seed 2^32-1 n 300 noise 1", seed=4294967295, n=300, noise=1.0)
    add("noise 0", noise=0.0)
    add("n 20 minmax", n=20, scaler="minmax", seed=3)
    add("m -3 tb -2 tw 4", m=-3.0, tb=-2.0, tw=4.0, seed=11)
    inline = [
        (np.arange(12, dtype=float), 0.25 + 0.5 * np.arange(12.0) + np.cos(np.arange(12.0)) / 8),
        (rnd.normal(5, 2, 50), rnd.normal(0, 1, 50)),
        (rnd.uniform(-3, 3, 64), rnd.uniform(-1, 1, 64) + 0.7 * rnd.uniform(-3, 3, 64)),
    ]
    for k, (x, y) in enumerate(inline):
        path = os.path.join(tmpdir, f"inline{k}.txt")
        with open(path, "w") as f:
            for a, b in zip(x, y):
                f.write(f"{hx(a)} {hx(b)}\n")
        add(f"inline {k}", n=len(x), data=path, seed=int(rnd.integers(0, 2**32)), frac=0.75)
    return out


def lambdas(mom):
    """Eigenvalues of the Hessian 2[[1, xm], [xm, cxx + xm^2]] (numpy's symmetric solver)."""
    xm, cxx = mom[0], mom[2]
    h = 2.0 * np.array([[1.0, xm], [xm, cxx + xm * xm]])
    lo, hi = np.linalg.eigvalsh(h)
    return float(lo), float(hi)


def epochs_for(batch, n_train, budget):
    """Epochs that give about `budget` optimizer steps (and at least a few epochs)."""
    spe = 1 if batch == 0 else -(-n_train // batch)
    return max(3, min(2000, budget // spe))


def plan_runs(ds, info, rnd, full_cross, count, budget):
    n_train = info["n_train"]
    lmin, lmax = lambdas(info["mom"])
    crit = 2.0 / lmax  # gd's critical rate on the full batch
    runs = []

    def lr_for(opt):
        if opt in ("gd", "momentum", "nesterov"):
            # around and past each method's critical rate, and small ones
            f = float(rnd.choice([0.05, 0.3, 0.7, 0.95, 1.2, 1.9, 2.6]))
            return f * crit
        return float(rnd.choice({"adagrad": [0.05, 0.3, 1.0, 3.0],
                                 "rmsprop": [0.003, 0.01, 0.05, 0.2],
                                 "adam": [0.003, 0.01, 0.05, 0.3, 1.0],
                                 "adamw": [0.003, 0.01, 0.05, 0.3]}[opt]))

    def one(opt, batch, sched):
        batch = min(batch, n_train)
        r = dict(opt=opt, lr=lr_for(opt), batch=batch, sched=sched)
        r["epochs"] = epochs_for(batch, n_train, budget)
        r["b0"] = float(rnd.uniform(-2, 2)) if rnd.random() < 0.5 else info["init"][0]
        r["w0"] = float(rnd.uniform(-2, 2)) if rnd.random() < 0.5 else info["init"][1]
        r["hmax"] = int(rnd.choice([0, 1, 7, 50, 1000]))
        r["unit"] = "step" if batch and rnd.random() < 0.4 else "epoch"
        if batch:
            r["shuffle"] = 0 if rnd.random() < 0.15 else 1
            r["sseed"] = int(rnd.choice([42, 0, 4294967295, int(rnd.integers(0, 2**32))]))
        if sched == "step":
            r["step_size"] = int(rnd.choice([1, 3, 10]))
            r["gamma"] = float(rnd.choice([0.1, 0.5, 0.9]))
        elif sched == "exponential":
            r["gamma"] = float(rnd.choice([0.95, 0.99, 0.8]))
        elif sched == "cosine":
            if rnd.random() < 0.5:
                r["t_max"] = int(rnd.integers(1, r["epochs"] + 5))
            if rnd.random() < 0.3:
                r["eta_min"] = r["lr"] * float(rnd.choice([0.01, 0.1]))
        if opt in ("momentum", "nesterov") and rnd.random() < 0.4:
            r["mom"] = float(rnd.choice([0.5, 0.99, 0.3]))
        if opt in ("adam", "adamw") and rnd.random() < 0.3:
            r["beta1"], r["beta2"] = float(rnd.choice([0.5, 0.0])), float(rnd.choice([0.9, 0.99]))
        if opt == "rmsprop" and rnd.random() < 0.3:
            r["alpha"] = float(rnd.choice([0.9, 0.5]))
        if opt != "gd" and rnd.random() < 0.15:
            r["eps"] = float(rnd.choice([1e-6, 1e-12]))
        if rnd.random() < 0.2:
            r["wd"] = float(rnd.choice([0.01, 0.1, 1e-3]))
        if rnd.random() < 0.1:
            r["tol"] = float(rnd.choice([1e-3, 1e-6]))
        runs.append(r)

    if full_cross:
        for opt in OPTS:
            for batch in (0, 1, 7, 16, n_train):
                for sched in SCHEDS:
                    one(opt, batch, sched)
    for _ in range(count):
        one(str(rnd.choice(OPTS)), int(rnd.choice([0, 0, 1, 7, 16, n_train])),
            str(rnd.choice(SCHEDS)))
    return runs


def special_runs(tut):
    """Runs that pin the divergence rule: heavy ball overshooting and converging, and diverging."""
    b0, w0 = tut["init"]
    lmin, lmax = lambdas(tut["mom"])
    runs = []
    for lr in (0.5, 1.0, 1.4):  # climb to 1.08x, 2.1x, 8.3x the start, then converge
        runs.append(dict(opt="momentum", lr=lr, epochs=300, b0=b0, w0=w0, hmax=20, _want="max_epochs"))
    crit_m = 2 * 1.9 / lmax
    runs.append(dict(opt="momentum", lr=crit_m * 1.02, epochs=300, b0=b0, w0=w0, hmax=20,
                     _want="diverged"))
    crit_n = 2 * 1.9 / (2.8 * lmax)
    runs.append(dict(opt="nesterov", lr=crit_n * 0.98, epochs=300, b0=b0, w0=w0, _want="max_epochs"))
    runs.append(dict(opt="nesterov", lr=crit_n * 1.02, epochs=300, b0=b0, w0=w0, _want="diverged"))
    # adam far past any sensible rate: bounded steps, it overshoots and never blows up
    runs.append(dict(opt="adam", lr=5.0, epochs=300, b0=b0, w0=w0, _want="max_epochs"))
    # adamw with lr * weight_decay > 2: p *= 1 - lr*wd grows geometrically
    runs.append(dict(opt="adamw", lr=30.0, wd=0.1, epochs=300, b0=b0, w0=w0, _want="diverged"))
    # mini-batch gd past its rate: caught by the general rule long before the epochs end
    runs.append(dict(opt="gd", lr=1.5, batch=16, epochs=1000, b0=b0, w0=w0, _want="diverged"))
    # onecycle peaking past the critical rate: blows up during the warm-up, recovers in the
    # anneal, and is not called diverged at the end
    runs.append(dict(opt="gd", lr=0.86, sched="onecycle", epochs=400, b0=b0, w0=w0, hmax=50,
                     _want="max_epochs"))
    return runs


# ---------------------------------------------------------------------------------------------
# The reference


def history_size(units, cap):
    if cap == 0:
        return 0
    if cap == 1 or units == 0:
        return 1
    return units + 1 if units < cap - 1 else cap


def history_time(units, count, k):
    return units if count <= 1 else k * units // (count - 1)


def full_loss(m, b, w):
    xm, ym, cxx, cxy, cyy, wopt, lopt = m
    r0 = ym - w * xm - b
    dw = w - wopt
    return lopt + cxx * dw * dw + r0 * r0


def full_grad(m, b, w):
    xm, ym, cxx, cxy, cyy, wopt, lopt = m
    r0 = ym - w * xm - b
    return -2.0 * r0, 2.0 * cxx * (w - wopt) - 2.0 * xm * r0


def batch_grad(x, y, rows, b, w):
    se = sxe = 0.0
    for i in rows:
        xi = x[i]
        e = b + w * xi - y[i]
        se += e
        sxe += xi * e
    n = len(rows)
    return 2.0 * se / n, 2.0 * sxe / n


def hyper(r, key, default):
    return r.get(key, default)


def make_optimizer(r, p):
    opt, lr = r["opt"], r["lr"]
    wd = hyper(r, "wd", 0.01 if opt == "adamw" else 0.0)
    eps = hyper(r, "eps", 1e-10 if opt == "adagrad" else 1e-8)
    if opt == "gd":
        return torch.optim.SGD([p], lr=lr, weight_decay=wd)
    if opt in ("momentum", "nesterov"):
        return torch.optim.SGD([p], lr=lr, momentum=hyper(r, "mom", 0.9), weight_decay=wd,
                               nesterov=opt == "nesterov")
    if opt == "adagrad":
        return torch.optim.Adagrad([p], lr=lr, eps=eps, weight_decay=wd)
    if opt == "rmsprop":
        return torch.optim.RMSprop([p], lr=lr, alpha=hyper(r, "alpha", 0.99), eps=eps,
                                   weight_decay=wd)
    betas = (hyper(r, "beta1", 0.9), hyper(r, "beta2", 0.999))
    cls = torch.optim.Adam if opt == "adam" else torch.optim.AdamW
    return cls([p], lr=lr, betas=betas, eps=eps, weight_decay=wd)


def make_scheduler(r, o, spe):
    s = r.get("sched", "constant")
    sch = torch.optim.lr_scheduler
    if s == "step":
        return sch.StepLR(o, step_size=r.get("step_size", 10), gamma=r.get("gamma", 0.1))
    if s == "exponential":
        return sch.ExponentialLR(o, gamma=r.get("gamma", 0.95))
    if s == "cosine":
        return sch.CosineAnnealingLR(o, T_max=r.get("t_max", 0) or r["epochs"],
                                     eta_min=r.get("eta_min", 0.0))
    if s == "onecycle":
        return sch.OneCycleLR(o, max_lr=r["lr"], total_steps=r["epochs"] * spe,
                              cycle_momentum=False)
    return None


def rho_numpy(r, mom):
    """Largest |root| of each eigen-direction's characteristic polynomial, by numpy.roots."""
    lr, beta = r["lr"], hyper(r, "mom", 0.9)
    wd = hyper(r, "wd", 0.0)
    out = 0.0
    for lam in lambdas(mom):
        lam += wd
        if r["opt"] == "gd":
            coeffs = [1.0, -(1.0 - lr * lam)]
        elif r["opt"] == "momentum":
            coeffs = [1.0, -(1.0 + beta - lr * lam), beta]
        else:
            a = 1.0 - lr * lam
            coeffs = [1.0, -(1.0 + beta) * a, beta * a]
        out = max(out, float(np.max(np.abs(np.roots(coeffs)))))
    return out


def reference(r, data, autograd=False):
    """The run with torch.optim; returns its result and history like the driver's."""
    x, y, rows_split, m, mv = data["x"], data["y"], data["train_rows"], data["mom"], data["momv"]
    n_train = len(rows_split)
    batch = r.get("batch", 0)
    full = batch == 0
    spe = 1 if full else -(-n_train // batch)
    epochs = r["epochs"]
    total = epochs * spe
    p = torch.tensor([r["b0"], r["w0"]], requires_grad=True)
    o = make_optimizer(r, p)
    sched = make_scheduler(r, o, spe)
    onecycle = r.get("sched") == "onecycle"
    per_epoch_sched = sched is not None and not onecycle
    rs = np.random.RandomState(r.get("sseed", 42))
    if autograd:
        xt = torch.tensor([x[i] for i in rows_split])
        yt = torch.tensor([y[i] for i in rows_split])
    by_step = r.get("unit", "epoch") == "step"
    units = total if by_step else epochs
    planned = history_size(units, r.get("hmax", 100))
    hist = []
    nxt = [0]

    def lr_now():
        return o.param_groups[0]["lr"]

    def offer(t, b, w):
        if nxt[0] < planned and t == history_time(units, planned, nxt[0]):
            hist.append((t, b, w, full_loss(m, b, w), lr_now()))
            nxt[0] += 1

    opt = r["opt"]
    has_rate = full and r.get("sched", "constant") == "constant" and opt in ("gd", "momentum",
                                                                            "nesterov")
    rho = rho_numpy(r, m) if has_rate else math.nan
    legacy_gd = has_rate and opt == "gd" and r.get("wd", 0.0) == 0.0
    b, w = r["b0"], r["w0"]
    loss0 = full_loss(m, b, w)
    ref = loss0 if loss0 > 0 else full_loss(m, 0.0, 0.0)
    ref = ref if ref > 0 else 1.0
    tol = r.get("tol", 0.0)
    window = {0: loss0}
    diverged_at, nonfinite, status = -1, False, "max_epochs"
    above_start = -1
    offer(0, b, w)
    gb, gw = full_grad(m, b, w)
    if tol > 0 and gb * gb + gw * gw <= tol * tol:
        status = "converged"
    e = steps = 0
    loss = loss0
    while status == "max_epochs" and e < epochs:
        if not full:
            perm = rs.permutation(n_train) if r.get("shuffle", 1) else np.arange(n_train)
        for k in range(spe):
            if autograd:
                p.grad = None
                lo = ((p[0] + p[1] * xt - yt) ** 2).mean()
                lo.backward()
            else:
                if full:
                    g = full_grad(m, b, w)
                else:
                    rows = [rows_split[j] for j in perm[k * batch:(k + 1) * batch]]
                    g = batch_grad(x, y, rows, b, w)
                p.grad = torch.tensor(g)
            o.step()
            steps += 1
            if onecycle:
                sched.step()
            b, w = p.tolist()
            if not (math.isfinite(b) and math.isfinite(w)):
                nonfinite = True
                break
            if by_step and k + 1 < spe:
                offer(steps, b, w)
        e += 1
        if nonfinite:
            break
        if per_epoch_sched:
            sched.step()
        loss = full_loss(m, b, w)
        gb, gw = full_grad(m, b, w)
        if not math.isfinite(loss):
            nonfinite = True
            break
        offer(steps if by_step else e, b, w)
        if legacy_gd:
            if above_start < 0 and loss > loss0:
                above_start = e
        elif has_rate:
            if rho >= 1.0 and diverged_at < 0 and loss > loss0:
                diverged_at = e
        else:
            before = window.get(e - DIVERGE_WINDOW, loss0)
            window[e] = loss
            if loss <= DIVERGE_FACTOR * ref:
                diverged_at = -1
            elif diverged_at < 0 and e >= DIVERGE_WINDOW and loss > DIVERGE_GROWTH * before:
                diverged_at = e
        if tol > 0 and gb * gb + gw * gw <= tol * tol:
            status = "converged"
    if nonfinite:
        status = "diverged"
        if legacy_gd:
            diverged_at = above_start if above_start >= 0 else e
        elif diverged_at < 0:
            diverged_at = e
    elif legacy_gd:
        if status == "max_epochs" and loss > loss0:
            status, diverged_at = "diverged", above_start
    elif diverged_at >= 0 and status != "converged":
        status = "diverged"
    elif status == "converged":
        diverged_at = -1
    t_end = steps if by_step else e
    if planned and (not hist or hist[-1][0] != t_end):
        hist.append((t_end, b, w, full_loss(m, b, w), lr_now()))
    return dict(status=status, epochs=e, steps=steps, diverged_at=diverged_at, b=b, w=w,
                lr=lr_now(), hist=hist, rho=rho, legacy_gd=legacy_gd, loss_opt=m[6])


# ---------------------------------------------------------------------------------------------
# Comparison


class Tally:
    def __init__(self):
        self.passed = self.failed = 0
        self.worst = {}

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            if self.failed <= 60:
                print("FAIL", what)

    def diff(self, key, got, want):
        if math.isfinite(got) and math.isfinite(want):
            d = abs(got - want) / max(abs(want), 1e-300)
            self.worst[key] = max(self.worst.get(key, 0.0), d)


def parse_data(d):
    x = [pf(v) for v in d["x"]]
    y = [pf(v) for v in d["y"]]
    idx = [int(v) for v in d["idx"]]
    n_train = int(d["n_train"][0])
    return dict(x=x, y=y, train_rows=idx[:n_train], n_train=n_train,
                mom=[pf(v) for v in d["moments_train"]], momv=[pf(v) for v in d["moments_val"]])


def compare(t, cid, r, got, want, mode):
    name = f"cfg {cid} {r['_ds']} {r['opt']} lr={r['lr']:.4g} batch={r.get('batch', 0)} " \
           f"sched={r.get('sched', 'constant')} [{mode}]"
    if got.get("run_status", ["?"])[0] != "OK":
        t.check(False, f"{name}: driver {got.get('run_status')} invalid={got.get('invalid')}")
        return
    f = got["run"]
    status, epochs, steps, div_at = f[0], int(f[1]), int(f[2]), int(f[3])
    b, w, lr = pf(f[4]), pf(f[5]), pf(f[10])
    hist_t = [int(v) for v in got.get("hist_t", [])]
    hb = [pf(v) for v in got.get("hist_b", [])]
    hw = [pf(v) for v in got.get("hist_w", [])]
    hl = [pf(v) for v in got.get("hist_train", [])]
    hlr = [pf(v) for v in got.get("hist_lr", [])]
    exact = mode == "exact" and not want["legacy_gd"]
    borderline = want["rho"] == want["rho"] and abs(want["rho"] - 1.0) < 1e-9
    if not borderline:
        t.check(status == want["status"], f"{name}: status {status}, torch {want['status']}")
        t.check(div_at == want["diverged_at"],
                f"{name}: diverged_at {div_at}, reference {want['diverged_at']}")
    if "_want" in r:
        t.check(status == r["_want"], f"{name}: status {status}, the rule wants {r['_want']}")
    t.check(epochs == want["epochs"] and steps == want["steps"],
            f"{name}: ran {epochs} epochs {steps} steps, torch {want['epochs']} {want['steps']}")
    t.check(hist_t == [h[0] for h in want["hist"]], f"{name}: history times differ")
    pairs = list(zip(hb, hw, hl, hlr, want["hist"]))
    if mode == "exact":
        tol = 0.0 if exact else max(1e-12, 16 * EPS * max(epochs, 1))
        bad = None
        for k, (gb_, gw_, gl, glr, h) in enumerate(pairs):
            for key, g, wv in (("b", gb_, h[1]), ("w", gw_, h[2]), ("loss", gl, h[3]),
                               ("lr", glr, h[4])):
                t.diff(("exact" if exact else "legacy gd") + " " + key, g, wv)
                same = g == wv or (g != g and wv != wv)
                scale = abs(wv) + (1e-3 if key in "bw" else 0.0)
                if not same and not (tol and abs(g - wv) <= tol * scale):
                    bad = bad or f"point {k} {key}: {g!r} torch {wv!r}"
        t.check(bad is None, f"{name}: {bad}")
        if exact:
            t.check((b, w, lr) == (want["b"], want["w"], want["lr"]) or
                    not math.isfinite(b + w), f"{name}: final state differs")
    else:
        lopt = want["loss_opt"]
        linear = r["opt"] in ("gd", "momentum", "nesterov")
        excess = [h[3] - lopt for h in want["hist"]]
        # adaptive runs contract while their excess loss falls from point to point
        prefix = len(excess)
        for k in range(1, len(excess)):
            if not linear and excess[k] >= excess[k - 1]:
                prefix = k
                break
        hood = 2.0 * max(excess[prefix - 1:] + [0.0]) + 1e-9 * lopt
        bad = None
        for k, (gb_, gw_, gl, glr, h) in enumerate(pairs):
            if k < prefix and excess[k] > 1e-6 * lopt:
                for key, g, wv in (("b", gb_, h[1]), ("w", gw_, h[2])):
                    t.diff("autograd " + key, g, wv)
                    if abs(g - wv) > 1e-12 * (abs(wv) + 1e-3):
                        bad = bad or f"point {k} {key}: {g!r} torch {wv!r}"
            elif k >= prefix and not gl - lopt <= hood:
                bad = bad or f"point {k}: excess loss {gl - lopt!r} outside torch's {hood!r}"
        t.check(bad is None, f"{name}: {bad}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("driver")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--quick", action="store_true", help="fewer runs, for development")
    ap.add_argument("--keep", help="write the driver's input here")
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
            # the tutorial's random start: the first two randn draws of a fresh stream
            rs = np.random.RandomState(ds["seed"])
            info["init"] = tuple(float(v) for v in rs.randn(2))
            if "data" not in ds:
                rs = np.random.RandomState(ds["seed"])
                xg = rs.rand(ds["n"]) * ds["m"]
                if ds["scaler"] == "none":
                    tally.check(list(xg) == info["x"], f"dataset {ds['_name']}: x differs")
            infos.append(info)
        budget = 300 if args.quick else 1500
        plan = []  # (dataset index, run, mode)
        for k, ds in enumerate(datasets):
            runs = plan_runs(ds, infos[k], rnd, full_cross=k == 0 and not args.quick,
                             count=8 if args.quick else 30, budget=budget)
            plan += [(k, r, "exact") for r in runs]
        plan += [(0, r, "exact") for r in special_runs(infos[0])]
        for k in (0, 1, 2):  # the book's gradient, from autograd, full batch
            for opt in OPTS:
                for sched in ("constant", "cosine"):
                    lr = {"gd": 0.3, "momentum": 0.1, "nesterov": 0.1, "adagrad": 0.5,
                          "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05}[opt]
                    lr *= 2.0 / lambdas(infos[k]["mom"])[1]
                    plan.append((k, dict(opt=opt, lr=lr, epochs=1000, sched=sched, hmax=60,
                                         b0=infos[k]["init"][0], w0=infos[k]["init"][1]),
                                 "autograd"))
        lines = []
        for cid, (k, r, mode) in enumerate(plan):
            r["_ds"] = datasets[k]["_name"]
            lines.append(run_line(cid, datasets[k], r))
        if args.keep:
            with open(args.keep, "w") as f:
                f.write("\n".join(lines) + "\n")
        got = run_driver(args.driver, lines)
        t1 = time.time()
        for cid, (k, r, mode) in enumerate(plan):
            want = reference(r, infos[k], autograd=mode == "autograd")
            compare(tally, cid, r, got[cid], want, mode)
    print(f"{len(plan)} runs ({sum(1 for p in plan if p[2] == 'exact')} exact, "
          f"{sum(1 for p in plan if p[2] == 'autograd')} autograd) on {len(datasets)} datasets; "
          f"driver {t1 - t0:.1f} s, torch {time.time() - t1:.1f} s")
    for key in sorted(tally.worst):
        print(f"  largest relative difference, {key}: {tally.worst[key]:.3g}")
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main())
