"""The optimizer runs of core_bench timed in torch, in-process: the baseline for bench.py's
"optim" section.

For each optimizer, torch.optim's class (torch 1.13, float64, CPU, one thread) trains the
tutorial's model on its data (seed 42, n = 100, the first 80 shuffled rows) the book's way:

    yhat = b + w * x_train[idx]; loss = ((yhat - y_train[idx]) ** 2).mean()
    loss.backward(); optimizer.step(); optimizer.zero_grad()

on the full batch, and on mini-batches of 16 (numpy RandomState(42).permutation(80) before every
epoch, consecutive slices), at lr 1e-7 like core_bench. Run by bench.py as

    /usr/bin/python3 torch_ref.py '{"steps": 3000, "reps": 3}'

and prints one JSON object, {"gd": {"full_ns": ..., "batch16_ns": ...}, ..., "torch": version}:
the best of reps, in nanoseconds of CPU time per optimizer step (as core_bench).
"""

import json
import sys
import time

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def make_data():
    np.random.seed(42)
    x = np.random.rand(100, 1)
    y = 1 + 2 * x + 0.1 * np.random.randn(100, 1)
    idx = np.arange(100)
    np.random.shuffle(idx)
    train = idx[:80]
    return torch.as_tensor(x[train]), torch.as_tensor(y[train])


def optimizer(name, params, lr):
    o = torch.optim
    return {
        "gd": lambda: o.SGD(params, lr=lr),
        "momentum": lambda: o.SGD(params, lr=lr, momentum=0.9),
        "nesterov": lambda: o.SGD(params, lr=lr, momentum=0.9, nesterov=True),
        "adagrad": lambda: o.Adagrad(params, lr=lr),
        "rmsprop": lambda: o.RMSprop(params, lr=lr),
        "adam": lambda: o.Adam(params, lr=lr),
        "adamw": lambda: o.AdamW(params, lr=lr),
    }[name]()


def run(name, x, y, steps, batch):
    b = torch.tensor([0.5], requires_grad=True)
    w = torch.tensor([-0.1], requires_grad=True)
    opt = optimizer(name, [b, w], 1e-7)
    n = len(x)
    rs = np.random.RandomState(42)
    batches = []
    t0 = time.thread_time()
    for _ in range(steps):
        if batch:
            if not batches:
                perm = torch.as_tensor(rs.permutation(n))
                batches = [perm[k:k + batch] for k in range(0, n, batch)][::-1]
            i = batches.pop()
            xb, yb = x[i], y[i]
        else:
            xb, yb = x, y
        yhat = b + w * xb
        loss = ((yhat - yb) ** 2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
    return (time.thread_time() - t0) * 1e9 / steps


def main():
    spec = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    steps, reps = spec.get("steps", 3000), spec.get("reps", 3)
    x, y = make_data()
    out = {"torch": torch.__version__}
    for name in ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"):
        out[name] = {"full_ns": min(run(name, x, y, steps, 0) for _ in range(reps)),
                     "batch16_ns": min(run(name, x, y, steps, 16) for _ in range(reps))}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
