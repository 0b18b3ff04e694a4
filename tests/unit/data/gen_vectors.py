#!/usr/bin/python3
"""Writes the reference vectors the Check suites read: numpy's legacy RandomState streams, the
tutorial's datasets, sklearn's scalers, and exact (rational) moments, losses and eigenvalues.

Run with Debian's python3 (python3-numpy, python3-sklearn):  /usr/bin/python3 gen_vectors.py
The output is committed, so the unit tests need neither Python nor numpy at build time.

Line format: one record per line, a kind then whitespace-separated fields; doubles are C99 hex
floats (float.hex()), so they round-trip bit for bit through strtod.
"""
import math
import os
from decimal import Decimal, getcontext
from fractions import Fraction

import numpy as np
from sklearn.preprocessing import MinMaxScaler, StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
getcontext().prec = 60

SEEDS = [0, 1, 42, 5489, 123456789, 2147483648, 4294967295]


def h(v):
    return float(v).hex()


def hexes(a):
    return " ".join(h(v) for v in a)


def ints(a):
    return " ".join(str(int(v)) for v in a)


def python_interval(raw, mx):
    """numpy's random_interval over a raw MT19937 stream (for max = 2^64 - 1, beyond randint)."""
    mask = mx
    for s in (1, 2, 4, 8, 16, 32):
        mask |= mask >> s
    while True:
        v = ((int(next(raw)) << 32) | int(next(raw))) & mask
        if v <= mx:
            return v


def write_rng(out):
    for seed in SEEDS:
        rs = np.random.RandomState(seed)
        out.write(f"u32 {seed} 16 {ints(rs._bit_generator.random_raw(16))}\n")
        np.random.seed(seed)
        out.write(f"uniform {seed} 9 {hexes(np.random.rand(9))}\n")
        np.random.seed(seed)
        out.write(f"gauss {seed} 9 {hexes(np.random.randn(9))}\n")
        # rand between randn draws leaves the cached Gaussian in place; a reseed drops it
        np.random.seed(seed)
        pattern, vals = "gugugguugg", []
        for op in pattern:
            vals.append(np.random.randn() if op == "g" else np.random.rand())
        out.write(f"mixed {seed} {pattern} {hexes(vals)}\n")
        for n in (1, 2, 3, 10, 1000):
            np.random.seed(seed)
            idx = np.arange(n)
            np.random.shuffle(idx)
            # and the stream goes on after the shuffle exactly as numpy's does
            after = np.random.rand()
            out.write(f"shuffle {seed} {n} {h(after)} {ints(idx)}\n")
        for mx in (1, 5, 1000, 2**31, 2**32 - 1, 2**32, 2**40 + 7, 2**63 + 12345):
            rs = np.random.RandomState(seed)
            vals = rs.randint(0, mx + 1, size=6, dtype=np.uint64)
            out.write(f"interval {seed} {mx} 6 {ints(vals)}\n")
        rs = np.random.RandomState(seed)
        raw = iter(rs._bit_generator.random_raw(1000))
        vals = [python_interval(raw, 2**64 - 1) for _ in range(6)]
        out.write(f"interval {seed} {2**64 - 1} 6 {ints(vals)}\n")
    # MT19937's own reference: the 10000th output of the default seed 5489 (C++ [rand.predef])
    rs = np.random.RandomState(5489)
    out.write(f"u32_at 5489 10000 {int(rs._bit_generator.random_raw(10000)[-1])}\n")


DATASETS = [
    # seed, n, true_b, true_w, noise, multiplier, train_fraction
    (42, 100, 1.0, 2.0, 0.1, 1.0, 0.8),
    (42, 100, 1.0, 2.0, 0.1, 10.0, 0.8),
    (0, 2, 1.0, 2.0, 0.1, 1.0, 0.5),
    (4294967295, 7, -3.5, 0.25, 0.0, -1.0, 0.3),
    (5489, 33, 0.0, 0.0, 2.0, 0.001, 0.9),
    (123456789, 1000, 1.0, 2.0, 0.1, 1.0, 0.8),
]


def tutorial_dataset(seed, n, tb, tw, noise, m, frac):
    np.random.seed(seed)
    x = np.random.rand(n) * m
    eps = noise * np.random.randn(n)
    y = tb + (tw / m) * x + eps
    idx = np.arange(n)
    np.random.shuffle(idx)
    return x, y, idx, int(n * frac)


def write_dataset(out):
    for seed, n, tb, tw, noise, m, frac in DATASETS:
        x, y, idx, n_train = tutorial_dataset(seed, n, tb, tw, noise, m, frac)
        out.write(f"dataset {seed} {n} {h(tb)} {h(tw)} {h(noise)} {h(m)} {h(frac)} {n_train}\n")
        out.write(f"x {hexes(x)}\n")
        out.write(f"y {hexes(y)}\n")
        out.write(f"idx {ints(idx)}\n")
    for seed in SEEDS:
        np.random.seed(seed)
        b = np.random.randn(1)
        w = np.random.randn(1)
        out.write(f"init {seed} {h(b[0])} {h(w[0])}\n")
    # inline data: x*m, y as given, split by a fresh stream of the seed
    for seed, n, m, frac in ((42, 5, 2.0, 0.6), (7, 12, -0.5, 0.25), (4294967295, 2, 1.0, 0.5)):
        xin = np.linspace(-1.0, 3.0, n) ** 3
        yin = np.cos(np.arange(n) * 0.7)
        np.random.seed(seed)
        idx = np.arange(n)
        np.random.shuffle(idx)
        out.write(f"load {seed} {n} {h(m)} {h(frac)} {int(n * frac)}\n")
        out.write(f"xin {hexes(xin)}\n")
        out.write(f"yin {hexes(yin)}\n")
        out.write(f"x {hexes(xin * m)}\n")
        out.write(f"idx {ints(idx)}\n")


def exact_moments(x, y):
    fx = [Fraction(float(v)) for v in x]
    fy = [Fraction(float(v)) for v in y]
    n = len(fx)
    mx = sum(fx) / n
    my = sum(fy) / n
    cxx = sum((a - mx) ** 2 for a in fx) / n
    cxy = sum((a - mx) * (b - my) for a, b in zip(fx, fy)) / n
    cyy = sum((b - my) ** 2 for b in fy) / n
    return fx, fy, mx, my, cxx, cxy, cyy


def exact_loss(fx, fy, b, w):
    b, w = Fraction(b), Fraction(w)
    n = len(fx)
    e = [b + w * a - c for a, c in zip(fx, fy)]
    return sum(v * v for v in e) / n, 2 * sum(e) / n, 2 * sum(a * v for a, v in zip(fx, e)) / n


def dec(f):
    return Decimal(f.numerator) / Decimal(f.denominator)


MOMENT_SETS = [
    # seed, n, multiplier, scaler ("none" or "standard"), points (b, w) to evaluate the loss at
    (42, 100, 1.0, "none"),
    (42, 100, 10.0, "none"),
    (42, 100, 1.0, "standard"),
    (7, 1000, -0.001, "none"),
    (0, 3, 1.0, "none"),
    (4294967295, 50, 3.0, "none"),
]


def write_moments(out):
    """Exact rational references on the training split: moments, losses, gradients, analysis."""
    for seed, n, m, scaler in MOMENT_SETS:
        x, y, idx, n_train = tutorial_dataset(seed, n, 1.0, 2.0, 0.1, m, 0.8)
        tr = idx[:n_train]
        xs = x
        if scaler == "standard":
            xs = StandardScaler().fit(x[tr].reshape(-1, 1)).transform(x.reshape(-1, 1)).ravel()
        xt, yt = xs[tr], y[tr]
        fx, fy, mx, my, cxx, cxy, cyy = exact_moments(xt, yt)
        w_opt = cxy / cxx
        b_opt = my - w_opt * mx
        loss_opt = exact_loss(fx, fy, b_opt, w_opt)[0]
        out.write(f"moments {seed} {n} {h(m)} {scaler} {h(mx)} {h(my)} {h(cxx)} {h(cxy)} "
                  f"{h(cyy)} {h(w_opt)} {h(b_opt)} {h(loss_opt)}\n")
        # Hessian 2 [[1, mx], [mx, cxx + mx^2]]; eigenvalues to 60 digits
        h11, h12, h22 = Fraction(2), 2 * mx, 2 * (cxx + mx * mx)
        half_tr = dec(h11 + h22) / 2
        rad = (dec((h11 - h22) ** 2) / 4 + dec(h12 * h12)).sqrt()
        lmax = half_tr + rad
        lmin = dec(h11 * h22 - h12 * h12) / lmax
        out.write(f"analysis {seed} {n} {h(m)} {scaler} {h(lmin)} {h(lmax)} {h(lmax / lmin)} "
                  f"{h(2 / lmax)} {h(2 / (lmin + lmax))}\n")
        np.random.seed(seed)
        b0, w0 = np.random.randn(), np.random.randn()
        for b, w in ((b0, w0), (0.0, 0.0), (float(b_opt), float(w_opt)), (-3.25, 7.5), (1e3, -2e3)):
            loss, gb, gw = exact_loss(fx, fy, b, w)
            out.write(f"loss {seed} {n} {h(m)} {scaler} {h(b)} {h(w)} {h(loss)} {h(gb)} {h(gw)}\n")


SCALER_SETS = [
    # name, x (train values first, in idx order), n_train
    ("tutorial", None, None),
    ("constant", [2.5] * 6, 4),
    ("huge_offset", [1e8 + 0.1 * k for k in range(9)], 6),
    ("negative", [-3.0, -1.5, -7.25, 0.0, 4.0, 12.0], 3),
    ("tiny_range", [1.0, 1.0 + 2**-52, 1.0, 1.0 + 2**-51, 5.0], 4),
]


def write_scale(out):
    for name, x, n_train in SCALER_SETS:
        if x is None:
            xx, _, idx, n_train = tutorial_dataset(42, 100, 1.0, 2.0, 0.1, 1.0, 0.8)
        else:
            xx, idx = np.array(x), np.arange(len(x))
        train = xx[idx[:n_train]].reshape(-1, 1)
        for kind, cls in (("standard", StandardScaler), ("minmax", MinMaxScaler)):
            sc = cls().fit(train)
            z = sc.transform(xx.reshape(-1, 1)).ravel()
            if kind == "standard":
                fitted = f"{h(sc.mean_[0])} {h(sc.scale_[0])}"
            else:
                fitted = f"{h(sc.data_min_[0])} {h(sc.data_max_[0])} {h(sc.scale_[0])}"
            out.write(f"scaler {name} {kind} {len(xx)} {n_train} {fitted}\n")
            out.write(f"x {hexes(xx)}\n")
            out.write(f"idx {ints(idx)}\n")
            out.write(f"z {hexes(z)}\n")


LINSPACES = [(-2.0, 4.0, 101), (-1.0, 5.0, 101), (-2.8, 3.2, 101), (-2.4, 3.6, 101),
             (0.1, 0.7, 7), (1.0, 1.0, 5), (5.0, -5.0, 11), (0.0, 1.0, 2), (-1e-3, 1e-3, 3),
             (0.3, 0.9, 1), (1e6 + 0.1, 1e6 + 0.7, 13), (-7.3, 1e-300, 1000),
             (0.0, 1e-323, 5), (-5e-324, 5e-324, 4), (1e-320, 3e-320, 7)]  # subnormal steps


def write_surface(out):
    for lo, hi, steps in LINSPACES:
        out.write(f"linspace {h(lo)} {h(hi)} {steps} {hexes(np.linspace(lo, hi, steps))}\n")


# Characteristic polynomials mu^2 - t mu + d of gd (mu - t), heavy ball and Nesterov per eigenvalue.
def char_poly(kind, lr, beta, lam):
    if kind == "gd":
        return [1.0, -(1.0 - lr * lam)]
    if kind == "momentum":
        return [1.0, -(1.0 + beta - lr * lam), beta]
    a = 1.0 - lr * lam
    return [1.0, -(1.0 + beta) * a, beta * a]


def write_optim(out):
    """rho: the largest |root| by numpy.roots, with a flag for a (nearly) double root, where any
    root finder is only accurate to about sqrt(eps); perm: RandomState(seed).permutation(n)."""
    rnd = np.random.default_rng(2024)
    cases = []
    for kind in ("gd", "momentum", "nesterov"):
        for lam in (2.0, 5.05, 0.1, 1e-3, 400.0):
            for beta in (0.0, 0.5, 0.9, 0.99):
                crit = {"gd": 2 / lam, "momentum": 2 * (1 + beta) / lam,
                        "nesterov": 2 * (1 + beta) / ((1 + 2 * beta) * lam)}[kind]
                for f in (1e-3, 0.1, 0.5, 0.9, 0.999, 1.001, 1.3, 3.0):
                    cases.append((kind, f * crit, beta, lam))
        for _ in range(60):
            cases.append((kind, float(10 ** rnd.uniform(-3, 1)), float(rnd.uniform(0, 0.999)),
                          float(10 ** rnd.uniform(-2, 2))))
    for kind, lr, beta, lam in cases:
        c = char_poly(kind, lr, beta, lam)
        rho = float(np.max(np.abs(np.roots(c))))
        near_double = len(c) == 3 and abs(c[1] ** 2 - 4 * c[2]) < 1e-6 * (c[1] ** 2 + abs(c[2]))
        out.write(f"rho {kind} {h(lr)} {h(beta)} {h(lam)} {h(rho)} {int(near_double)}\n")
    for seed, n in ((42, 80), (0, 1), (1, 2), (4294967295, 7), (7, 1000), (123, 33)):
        out.write(f"perm {seed} {n} {ints(np.random.RandomState(seed).permutation(n))}\n")


def range_lr(mode, start, end, num_iter, i):
    """torch_lr_finder's ExponentialLR/LinearLR.get_lr() at last_epoch i (torch >= 1.1)."""
    r = i / (num_iter - 1)
    if mode == "exp":
        return start * (end / start) ** r
    return start + r * (end - start)


def range_curve(raws, smooth_f, diverge_th):
    """range_test's loop body over given batch losses, plus gdlab's rule that a non-finite
    smoothed loss stops it: (smoothed losses, stopped_at, best index)."""
    losses, best, best_i, stopped = [], None, -1, -1
    for i, loss in enumerate(raws):
        if i == 0:
            best, best_i = loss, (0 if np.isfinite(loss) else -1)
        else:
            if smooth_f > 0:
                loss = smooth_f * loss + (1 - smooth_f) * losses[-1]
            if loss < best:
                best, best_i = loss, i
        losses.append(loss)
        if loss > diverge_th * best or not np.isfinite(loss):
            stopped = i
            break
    return losses, stopped, best_i


def steepest(losses, skip_start, skip_end):
    """plot()'s suggestion as an index into the whole curve; -1 where numpy.gradient raises."""
    sl = losses[skip_start:] if skip_end == 0 else losses[skip_start:-skip_end]
    try:
        return skip_start + int(np.gradient(np.array(sl, dtype=float)).argmin())
    except ValueError:
        return -1


def write_lrfinder(out):
    """lr: the range test's rates; gradient: numpy.gradient; steepest: plot()'s suggestion;
    curve: the loop's smoothing, best and stop over given batch losses."""
    rnd = np.random.default_rng(14)
    cases = [("exp", 1e-4, 10.0, 100, range(100)), ("linear", 1e-4, 10.0, 100, range(100)),
             ("exp", 1e-7, 1.0, 17, range(17)), ("linear", 0.3, 0.30000001, 2, range(2)),
             ("exp", 1e-5, 1e5, 100000, (0, 1, 2, 49999, 50000, 77777, 99998, 99999)),
             ("linear", 1e-300, 1e300, 3, range(3)), ("exp", 2.0 ** -40, 2.0 ** 40, 5, range(5))]
    for _ in range(20):
        start = float(10 ** rnd.uniform(-8, 1))
        end = start * float(10 ** rnd.uniform(0.001, 8))
        n = int(rnd.integers(2, 500))
        for mode in ("exp", "linear"):
            cases.append((mode, start, end, n, sorted(set(int(v) for v in rnd.integers(0, n, 5)))))
    for mode, start, end, n, its in cases:
        for i in its:
            out.write(f"lr {mode} {h(start)} {h(end)} {n} {i} {h(range_lr(mode, start, end, n, i))}\n")
    arrays = [[1.0, 3.0], [5.0, 2.0, 7.0], [0.0] * 6, list(rnd.normal(0, 1, 17)),
              list(10 ** rnd.uniform(-300, 300, 9)), [1e308, -1e308, 1e308],
              [5e-324, 0.0, 1.5e-323, 2e-323], list(np.cumsum(rnd.normal(0, 1, 50)))]
    for f in arrays:
        g = np.gradient(np.array(f, dtype=float))
        out.write(f"gradient {len(f)} {hexes(f)} {hexes(g)}\n")
    curves = [list(rnd.normal(0, 1, n)) for n in (0, 1, 2, 14, 15, 16, 17, 18, 30, 100)]
    curves += [[1.0] * 20, [3.0, 2.0, 1.0, 1.0, 2.0, 3.0] * 4,
               list(np.linspace(10, 0, 40)) + [math.nan] + [1.0] * 10]
    for f in curves:
        for skip_start, skip_end in ((10, 5), (0, 0), (3, 1), (0, 7), (25, 0)):
            out.write(f"steepest {len(f)} {skip_start} {skip_end} "
                      f"{steepest(f, skip_start, skip_end)} {hexes(f)}\n".replace("  ", " "))
    raw_sets = []
    for n in (1, 2, 17, 60, 100):
        # a range test's shape: falling towards a floor, then blowing up
        t = np.arange(n)
        raws = 1.0 + 4.0 * np.exp(-t / 8.0) + 1e-6 * np.exp(t / 4.0) + rnd.normal(0, 0.05, n)
        raw_sets.append(list(raws))
    raw_sets += [[2.0, 11.0, 1.0], [2.0, 10.0, 1.0], [2.0, 1.0, 5.0, 5.0000001], [math.inf, 1.0],
                 [math.nan, 1.0], [3.0, 2.0, math.nan, 1.0], [3.0, 2.0, math.inf, 1.0],
                 [1.0, 0.0, 0.0, 1e-300], [4.0, 3.0, 2.0, 1.0, 0.5, 1e308, 1e308]]
    for raws in raw_sets:
        for smooth_f in (0.0, 0.05, 0.5, 0.98):
            for th in (1.0, 1.5, 5.0, 1e9):
                losses, stopped, best_i = range_curve(raws, smooth_f, th)
                out.write(f"curve {h(smooth_f)} {h(th)} {len(raws)} {hexes(raws)} {stopped} "
                          f"{best_i} {len(losses)} {hexes(losses)}\n".replace("  ", " "))


def main():
    for name, fn in (("optim.txt", write_optim), ("lrfinder.txt", write_lrfinder), ("rng.txt", write_rng), ("dataset.txt", write_dataset),
                     ("surface.txt", write_surface),
                     ("moments.txt", write_moments), ("scale.txt", write_scale)):
        with open(os.path.join(HERE, name), "w") as out:
            out.write(f"# generated by gen_vectors.py with numpy {np.__version__}; do not edit\n")
            fn(out)


if __name__ == "__main__":
    main()
