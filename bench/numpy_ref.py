"""The tutorial's computations done the tutorial's way in numpy, timed in-process.

This is the baseline gdlab's compute endpoints are compared with: the per-sample broadcasting of
the loss surface (np.apply_along_axis over the training points), the epoch loop of batch gradient
descent, and generating the dataset plus json.dumps of it. Run by bench.py as

    /usr/bin/python3 numpy_ref.py '{"task": "surface", "n": 10000, "steps": 201, "reps": 3}'

and prints one JSON object: the timings in seconds (every repetition) and a few numbers from the
result, so that bench.py can check that gdlab computed the same thing.
"""

import json
import sys
import time

import numpy as np


def make_data(n, seed=42, true_b=1.0, true_w=2.0, noise=0.1):
    """The tutorial's synthetic data and train/validation split, line for line."""
    np.random.seed(seed)
    x = np.random.rand(n, 1)
    epsilon = noise * np.random.randn(n, 1)
    y = true_b + true_w * x + epsilon
    idx = np.arange(n)
    np.random.shuffle(idx)
    train_idx = idx[: int(n * 0.8)]
    val_idx = idx[int(n * 0.8):]
    return x, y, train_idx, val_idx


def surface(n, steps, chunk):
    """The tutorial's loss surface over true_b +- 3 by true_w +- 3.

    all_predictions = np.apply_along_axis(lambda x: bs + ws * x, 1, x_train) holds one
    steps x steps grid per training point (8000 x 201 x 201 doubles is 2.6 GB, and the errors and
    their squares as much again), so the training points go through it `chunk` at a time and the
    squared errors are summed; the arithmetic per point is the tutorial's.
    """
    x, y, train_idx, _ = make_data(n)
    x_train, y_train = x[train_idx], y[train_idx]
    b_range = np.linspace(1.0 - 3, 1.0 + 3, steps)
    w_range = np.linspace(2.0 - 3, 2.0 + 3, steps)
    bs, ws = np.meshgrid(b_range, w_range)
    total = np.zeros_like(bs)
    for start in range(0, len(x_train), chunk):
        xs = x_train[start:start + chunk]
        all_predictions = np.apply_along_axis(func1d=lambda x: bs + ws * x, axis=1, arr=xs)
        all_labels = y_train[start:start + chunk].reshape(-1, 1, 1)
        all_errors = all_predictions - all_labels
        total += (all_errors**2).sum(axis=0)
    all_losses = total / len(x_train)
    i, j = np.unravel_index(np.argmin(all_losses), all_losses.shape)
    return {"loss_00": all_losses[0, 0], "loss_mid": all_losses[steps // 2, steps // 2],
            "min_loss": all_losses[i, j], "min_b_index": int(j), "min_w_index": int(i)}


def train(epochs, history, lr=0.1, n=100):
    """The tutorial's epoch loop from its random start, recording `history` evenly spaced states
    (b, w, training and validation loss) like gdlab's default /train answer."""
    x, y, train_idx, val_idx = make_data(n)
    x_train, y_train = x[train_idx], y[train_idx]
    x_val, y_val = x[val_idx], y[val_idx]
    np.random.seed(42)
    b = np.random.randn(1)
    w = np.random.randn(1)
    keep = set(k * epochs // (history - 1) for k in range(history)) if history > 1 else set()
    hist = []
    for epoch in range(epochs + 1):
        yhat = b + w * x_train
        error = yhat - y_train
        loss = (error**2).mean()
        if epoch in keep:
            val_loss = ((b + w * x_val - y_val) ** 2).mean()
            hist.append((epoch, b[0], w[0], loss, val_loss))
        if epoch == epochs:
            break
        b_grad = 2 * error.mean()
        w_grad = 2 * (x_train * error).mean()
        b = b - lr * b_grad
        w = w - lr * w_grad
    return {"b": float(b[0]), "w": float(w[0]), "train_loss": float(loss), "history": len(hist)}


def dataset(n):
    """Generate the data and write it as JSON: each split's indices, x and y."""
    x, y, train_idx, val_idx = make_data(n)
    doc = {
        "train": {"idx": train_idx.tolist(), "x": x[train_idx, 0].tolist(),
                  "y": y[train_idx, 0].tolist()},
        "val": {"idx": val_idx.tolist(), "x": x[val_idx, 0].tolist(), "y": y[val_idx, 0].tolist()},
    }
    text = json.dumps(doc)
    return {"bytes": len(text), "x0": x[train_idx[0], 0]}


def blas_info():
    try:
        import threadpoolctl

        return [{k: d.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                for d in threadpoolctl.threadpool_info()]
    except ImportError:
        return []


def main():
    spec = json.loads(sys.argv[1])
    task = spec["task"]
    times = []
    result = None
    for _ in range(spec.get("reps", 1)):
        t0 = time.perf_counter()
        if task == "surface":
            result = surface(spec["n"], spec["steps"], spec.get("chunk", 1000))
        elif task == "train":
            result = train(spec["epochs"], spec.get("history", 1001))
        elif task == "dataset":
            result = dataset(spec["n"])
        else:
            raise SystemExit(f"numpy_ref: unknown task {task!r}")
        times.append(time.perf_counter() - t0)
    print(json.dumps({"task": task, "times": times, "result": result, "numpy": np.__version__,
                      "blas": blas_info()}, default=float))


if __name__ == "__main__":
    main()
