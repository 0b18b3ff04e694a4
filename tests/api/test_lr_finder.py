"""/lr-finder through the API: torch_lr_finder's range_test re-implemented in torch the book's way
(float64 autograd of the batch's MSE, the library's ExponentialLR/LinearLR rates, the batch loss
before each step, exponential smoothing, the diverge_th stop), and the library plot's suggestion
(numpy.gradient's argmin over losses[10:-5]) recomputed from the answer itself.

The core's differential test (tests/diff/diff_lrfinder.py) holds hundreds of configurations to the
last bit with the core's own gradient. Here torch's autograd sums the batch in its own order, so
the curves agree to 1e-12 only while the run is well conditioned: for gd and momentum while the rate
is below the optimizer's exact critical rate (past it the unstable direction grows out of the
gradient's last-bit rounding, differently in two correct implementations), for adaptive
optimizers up to the smoothed loss's minimum. The rates and the stop are compared exactly.
"""
import math
import unittest

import numpy as np
import torch

from gdlab_api import Server

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def range_test(x, y, opt_name, b0, w0, start_lr=1e-4, end_lr=10.0, num_iter=100, step_mode="exp",
               smooth_f=0.05, diverge_th=5.0, batch=0, seed=42, momentum=0.9):
    p = torch.tensor([b0, w0], requires_grad=True)
    if opt_name == "gd":
        opt = torch.optim.SGD([p], lr=start_lr)
    elif opt_name == "momentum":
        opt = torch.optim.SGD([p], lr=start_lr, momentum=momentum)
    elif opt_name == "adam":
        opt = torch.optim.Adam([p], lr=start_lr)
    else:
        opt = torch.optim.RMSprop([p], lr=start_lr)
    n = len(x)
    rs = np.random.RandomState(seed)
    order, pos = None, n
    lrs, losses, raws = [], [], []
    best = None
    for i in range(num_iter):
        r = i / (num_iter - 1)
        lr = start_lr * (end_lr / start_lr) ** r if step_mode == "exp" else \
            start_lr + r * (end_lr - start_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        if batch:
            if pos >= n:
                order, pos = rs.permutation(n), 0
            rows = torch.tensor(order[pos:pos + batch])
            pos += batch
        else:
            rows = torch.arange(n)
        opt.zero_grad()
        loss = ((p[0] + p[1] * x[rows] - y[rows]) ** 2).mean()
        loss.backward()
        opt.step()
        raw = loss.item()
        lrs.append(lr)
        raws.append(raw)
        if i == 0:
            best = raw
            smoothed = raw
        else:
            smoothed = smooth_f * raw + (1 - smooth_f) * losses[-1] if smooth_f > 0 else raw
            best = min(best, smoothed)
        losses.append(smoothed)
        if smoothed > diverge_th * best:
            return lrs, losses, raws, i
    return lrs, losses, raws, None


def suggestion(losses, skip_start=10, skip_end=5):
    part = np.array(losses[skip_start:-skip_end] if skip_end else losses[skip_start:])
    if len(part) < 2:
        return None
    return skip_start + int(np.gradient(part).argmin())


class LrFinder(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def get(self, path, params):
        r = self.server.get(path, params)
        self.assertEqual(r.status, 200, (path, params, r.body[:300]))
        return r.json

    def data(self, extra):
        d = self.get("/dataset", extra)
        return torch.tensor(d["train"]["x"]), torch.tensor(d["train"]["y"])

    def test_range_test_against_torch(self):
        for extra, opt_name, kw in (({}, "gd", {}), ({"x_multiplier": 10}, "gd", {}),
                                    ({"scaler": "standard"}, "gd", {}),
                                    ({}, "momentum", {"momentum": 0.5}),
                                    ({}, "adam", {"step_mode": "linear", "end_lr": 1}),
                                    ({}, "gd", {"batch_size": 8, "smooth_f": 0}),
                                    ({}, "rmsprop", {"num_iter": 60, "diverge_th": 1e9})):
            q = dict(extra, optimizer=opt_name, **kw)
            a = self.get("/lr-finder", q)
            x, y = self.data(extra)
            ref_kw = {k: v for k, v in kw.items() if k != "batch_size"}
            lrs, losses, raws, stop = range_test(
                x, y, opt_name, a["params"]["b0"], a["params"]["w0"],
                batch=kw.get("batch_size", 0), **ref_kw)
            self.assertEqual(a["lr"], lrs, q)  # the library's rates, exactly
            self.assertEqual(a["stopped_at"], stop, q)
            crit = a["lr_critical_optimizer"]
            if crit is not None:
                upto = sum(1 for lr in lrs if lr < crit)
            else:
                upto = a["min_loss"]["index"]
            self.assertGreater(upto, 10, q)
            for i in range(min(upto, len(lrs))):
                self.assertLess(abs(a["loss"][i] - losses[i]), 1e-12 * max(1.0, losses[i]),
                                (q, i))
                self.assertLess(abs(a["raw_loss"][i] - raws[i]), 1e-12 * max(1.0, raws[i]),
                                (q, i))

    def test_suggestion_is_the_plots(self):
        for extra in ({}, {"x_multiplier": 10}, {"scaler": "standard"}, {"num_iter": 17},
                      {"num_iter": 16}):
            a = self.get("/lr-finder", extra)
            want = suggestion(a["loss"])
            self.assertEqual(a["suggestion"]["index"], want, extra)
            if want is None:
                self.assertIsNone(a["suggestion"]["lr"])
            else:
                self.assertEqual(a["suggestion"]["lr"], a["lr"][want])
            k = int(np.argmin(a["loss"]))
            self.assertEqual(a["min_loss"]["index"], k)
            self.assertEqual(a["min_loss"]["lr"], a["lr"][k])

    def test_the_exact_answer_beside_the_empirical_one(self):
        for extra in ({}, {"x_multiplier": 10}, {"scaler": "standard"}):
            a = self.get("/lr-finder", extra)
            lam_max = a["analysis"]["hessian_eigenvalues"][1]
            self.assertAlmostEqual(a["lr_critical"], 2 / lam_max, delta=1e-12 * a["lr_critical"])
            self.assertEqual(a["lr_critical"], a["analysis"]["lr_critical"])
            self.assertEqual(a["lr_optimal"], a["analysis"]["lr_optimal"])
            # the steepest descent sits below the critical rate, the blow-up above it
            self.assertLess(a["suggestion"]["lr"], a["lr_critical"])
            self.assertGreater(a["lr"][a["stopped_at"]], a["lr_critical"])
        m = self.get("/lr-finder", {"optimizer": "momentum", "momentum": 0.5})
        lam_max = m["analysis"]["hessian_eigenvalues"][1]
        self.assertAlmostEqual(m["lr_critical_optimizer"], 2 * 1.5 / lam_max, delta=1e-12)
        adam = self.get("/lr-finder", {"optimizer": "adam"})
        self.assertIsNone(adam["lr_critical_optimizer"])

    def test_the_echo_reproduces_the_answer(self):
        first = self.server.get("/lr-finder", {"optimizer": "adam", "batch_size": 4,
                                               "num_iter": 30, "step_mode": "linear",
                                               "end_lr": 2})
        self.assertEqual(first.status, 200)
        again = self.server.post("/lr-finder", first.json["params"])
        self.assertEqual(again.body, first.body)


if __name__ == "__main__":
    unittest.main(verbosity=2)
