"""The optim section of bench/bench.py: the core's optimizer steps against torch.optim in-process.
"""

import json
import os
import subprocess

from bench_common import HERE, PYTHON


# --- optimizers: the core's steps against torch.optim in-process --------------------------------

OPTIMIZERS = ("gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw")


def bench_optim(cfg, build):
    """core_bench optim (CPU ns per step, best of 3) beside bench/torch_ref.py (the same runs in
    torch the book's way, CPU ns per step, best of reps), full batch and mini-batches of 16."""
    core = subprocess.run([os.path.join(build, "bench", "core_bench"), "optim",
                           str(cfg["optim_steps"])], capture_output=True, text=True, timeout=600)
    if core.returncode != 0:
        raise RuntimeError(f"core_bench optim: {core.stderr}")
    ref = subprocess.run([PYTHON, os.path.join(HERE, "torch_ref.py"),
                          json.dumps({"steps": cfg["torch_steps"], "reps": cfg["torch_reps"]})],
                         capture_output=True, text=True, timeout=600)
    if ref.returncode != 0:
        raise RuntimeError(f"torch_ref: {ref.stderr}")
    core, ref = json.loads(core.stdout), json.loads(ref.stdout)
    out = {"torch_version": ref["torch"], "runs": {}}
    for name in OPTIMIZERS:
        row = {}
        for kind in ("full_ns", "batch16_ns"):
            row[kind] = core[name][kind]
            row["torch_" + kind] = ref[name][kind]
            row[kind.replace("_ns", "_speedup")] = ref[name][kind] / core[name][kind]
        out["runs"][name] = row
    return out
