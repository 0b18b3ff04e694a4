"""/train beyond plain gradient descent, through the API: torch.optim run the book's way (float64
autograd of the batch's MSE, optimizer.step(), the scheduler), the divergence rule on runs that
overshoot and converge, the exact critical rates, mini-batches, schedules, the report's shape and
its echo.

The core's differential test (tests/diff/diff_torch.py) holds hundreds of configurations to the
last bit with the core's own gradient; here torch computes the gradient itself, as a learner's
notebook would, so its sums differ from the moments' in the last bits. Linear iterations (gd,
momentum, nesterov) damp such differences: their parameters must agree to 1e-10 relative over the
whole run. Adaptive optimizers amplify them once near the optimum (steps of about +-lr whatever
the gradient's size): they are held to 1e-10 over the first epochs, while the loss still falls
steeply, and to the same neighbourhood of the optimum at the end.
"""
import json
import math
import unittest

import numpy as np
import torch

from gdlab_api import Server

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def rel(a, b):
    return abs(a - b) / max(abs(a), abs(b), 1e-3)


class Optimizers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()
        d = cls.get_json("/dataset", {})
        cls.x = torch.tensor(d["train"]["x"])
        cls.y = torch.tensor(d["train"]["y"])

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    @classmethod
    def get_json(cls, path, params):
        r = cls.server.get(path, params)
        assert r.status == 200, (path, params, r.status, r.body[:400])
        return r.json

    def train(self, **params):
        return self.get_json("/train", {k: v for k, v in params.items() if v is not None})

    def torch_run(self, opt_name, lr, epochs, b0, w0, batch=0, seed=42, schedule=None, **hyper):
        """The book's loop: p.grad from autograd of the batch's mean squared error."""
        p = torch.tensor([b0, w0], requires_grad=True)
        kw = dict(lr=lr)
        if opt_name in ("momentum", "nesterov"):
            opt = torch.optim.SGD([p], momentum=hyper.get("momentum", 0.9),
                                  nesterov=opt_name == "nesterov", **kw)
        elif opt_name == "gd":
            opt = torch.optim.SGD([p], **kw)
        elif opt_name == "adam":
            opt = torch.optim.Adam([p], **kw)
        elif opt_name == "rmsprop":
            opt = torch.optim.RMSprop([p], **kw)
        elif opt_name == "adagrad":
            opt = torch.optim.Adagrad([p], **kw)
        else:
            opt = torch.optim.AdamW([p], **kw)
        sched = None
        if schedule == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
        n = len(self.x)
        rs = np.random.RandomState(seed)
        path = [(b0, w0)]
        for _ in range(epochs):
            order = rs.permutation(n) if batch else np.arange(n)
            size = batch or n
            for k in range(0, n, size):
                rows = torch.tensor(order[k:k + size])
                opt.zero_grad()
                loss = ((p[0] + p[1] * self.x[rows] - self.y[rows]) ** 2).mean()
                loss.backward()
                opt.step()
            if sched:
                sched.step()
            path.append(tuple(p.tolist()))
        return path, opt.param_groups[0]["lr"]

    def check_path(self, run, path, upto, tol):
        h = run["history"]
        for k, e in enumerate(h["epoch"]):
            if e > upto:
                break
            b, w = path[e]
            self.assertLess(rel(h["b"][k], b), tol, (run.get("optimizer", "gd"), run["lr"], e))
            self.assertLess(rel(h["w"][k], w), tol, (run.get("optimizer", "gd"), run["lr"], e))

    def test_linear_optimizers_agree_with_torch_over_the_whole_run(self):
        epochs = 200
        for opt_name, lrs in (("momentum", [0.05, 0.5, 1.4]), ("nesterov", [0.1, 0.7]),
                              ("gd", [0.3])):
            t = self.train(optimizer=opt_name, lr=",".join(map(str, lrs)), epochs=epochs,
                           history=epochs + 1, momentum=0.9 if opt_name != "gd" else None)
            for run in t["runs"]:
                path, _ = self.torch_run(opt_name, run["lr"], epochs, t["params"]["b0"],
                                         t["params"]["w0"])
                self.check_path(run, path, epochs, 1e-10)

    def test_adaptive_optimizers_agree_with_torch_while_the_loss_falls(self):
        epochs = 300
        for opt_name, lr in (("adam", 0.1), ("rmsprop", 0.01), ("adagrad", 0.5), ("adamw", 0.1)):
            run = self.train(optimizer=opt_name, lr=lr, epochs=epochs,
                             history=epochs + 1)["runs"][0]
            b0, w0 = run["history"]["b"][0], run["history"]["w"][0]
            path, _ = self.torch_run(opt_name, lr, epochs, b0, w0)
            self.check_path(run, path, 20, 1e-10)
            # the end: the same neighbourhood of the optimum
            self.assertLess(abs(run["final"]["b"] - path[-1][0]), 0.05, opt_name)
            self.assertLess(abs(run["final"]["w"] - path[-1][1]), 0.05, opt_name)

    def test_mini_batches_follow_numpys_permutations(self):
        t = self.train(optimizer="gd", lr=0.1, epochs=5, batch_size=8, shuffle_seed=7,
                       history=6)
        self.assertEqual(t["params"]["shuffle_seed"], 7)
        self.assertIs(t["params"]["shuffle"], True)
        run = t["runs"][0]
        self.assertEqual(run["steps_run"], 5 * 10)  # 80 training points in batches of 8
        path, _ = self.torch_run("gd", 0.1, 5, t["params"]["b0"], t["params"]["w0"], batch=8,
                                 seed=7)
        self.check_path(run, path, 5, 1e-10)
        # the noisy path: not the full-batch one
        full = self.train(optimizer="gd", lr=0.1, epochs=5, history=6, weight_decay=0)["runs"][0]
        self.assertNotEqual(full["history"]["b"][1], run["history"]["b"][1])

    def test_heavy_ball_overshoots_and_converges_and_is_not_called_diverged(self):
        t = self.train(optimizer="momentum", lr="0.5,1.0,1.4,1.6", epochs=2000, history=2001)
        crit = t["analysis"]["stability"]["lr_critical"]["momentum"]
        lam_max = t["analysis"]["hessian_eigenvalues"][1]
        self.assertAlmostEqual(crit, 2 * 1.9 / lam_max, delta=1e-12 * crit)
        self.assertTrue(1.4 < crit < 1.6, crit)
        for run in t["runs"][:3]:
            losses = run["history"]["train_loss"]
            self.assertGreater(max(losses), losses[0], "it overshoots past its start")
            self.assertEqual(run["status"], "max_epochs")
            self.assertIsNone(run["diverged_at"])
            self.assertLess(run["final"]["train_loss"], 0.0081)
            self.assertLess(run["rate"]["predicted"], 1.0)
        past = t["runs"][3]
        self.assertEqual(past["status"], "diverged")
        self.assertIsNotNone(past["diverged_at"])
        self.assertLess(past["diverged_at"], 50, "caught early")
        self.assertGreater(past["rate"]["predicted"], 1.0)

    def test_predicted_and_measured_rates_side_by_side(self):
        t = self.train(optimizer="gd,momentum,nesterov", lr=0.3, epochs=3000, history=0)
        for run in t["runs"]:
            r = run["rate"]
            self.assertLess(abs(math.log(r["measured"]) / math.log(r["predicted"]) - 1), 0.05,
                            run)
        adam = self.train(optimizer="adam", lr=0.1, epochs=50, history=0)["runs"][0]
        self.assertIsNone(adam["rate"]["predicted"])
        self.assertIsNone(adam["rate"]["measured"])

    def test_polyak_and_the_critical_rates(self):
        a = self.train(optimizer="momentum", momentum=0.5, epochs=1, history=0)["analysis"]
        lmin, lmax = a["hessian_eigenvalues"]
        s = a["stability"]
        self.assertEqual(s["momentum"], 0.5)
        self.assertAlmostEqual(s["lr_critical"]["gd"], a["lr_critical"], delta=1e-15)
        self.assertAlmostEqual(s["lr_critical"]["nesterov"], 2 * 1.5 / (2.0 * lmax),
                               delta=1e-12)
        k = lmax / lmin
        q = (math.sqrt(k) - 1) / (math.sqrt(k) + 1)
        self.assertAlmostEqual(s["polyak"]["lr"], 4 / (math.sqrt(lmax) + math.sqrt(lmin)) ** 2,
                               delta=1e-12)
        self.assertAlmostEqual(s["polyak"]["momentum"], q * q, delta=1e-12)
        self.assertAlmostEqual(s["polyak"]["rate"], q, delta=1e-12)

    def test_cosine_schedule_reports_the_rate_and_ends_at_eta_min(self):
        t = self.train(optimizer="gd", lr=0.5, epochs=100, schedule="cosine", history=101)
        run = t["runs"][0]
        self.assertEqual(t["params"]["t_max"], 100)
        self.assertEqual(t["params"]["eta_min"], 0.0)
        lrs = run["history"]["lr"]
        self.assertEqual(lrs[0], 0.5)
        self.assertEqual(len(lrs), 101)
        self.assertTrue(all(a >= b for a, b in zip(lrs, lrs[1:])), "it anneals")
        path, last = self.torch_run("gd", 0.5, 100, t["params"]["b0"], t["params"]["w0"],
                                    schedule="cosine")
        self.assertLess(abs(run["lr_final"] - last), 1e-15)
        self.check_path(run, path, 100, 1e-10)

    def test_history_in_steps(self):
        run = self.train(optimizer="adam", lr=0.05, epochs=3, batch_size=16,
                         history_unit="step", history=1000)["runs"][0]
        self.assertEqual(run["history"]["step"], list(range(0, 3 * 5 + 1)))
        self.assertNotIn("epoch", run["history"])

    def test_runs_come_optimizer_by_optimizer(self):
        t = self.train(optimizer="adam,gd", lr="0.1,0.2", epochs=3, history=0)
        self.assertEqual([(r["optimizer"], r["lr"]) for r in t["runs"]],
                         [("adam", 0.1), ("adam", 0.2), ("gd", 0.1), ("gd", 0.2)])
        self.assertEqual(t["params"]["optimizer"], ["adam", "gd"])
        self.assertEqual(set(t["runs"][0]["hyperparameters"]),
                         {"beta1", "beta2", "eps", "weight_decay"})
        self.assertEqual(t["runs"][0]["hyperparameters"]["eps"], 1e-8)
        self.assertEqual(t["runs"][2]["hyperparameters"], {"weight_decay": 0.0})

    def test_the_echo_reproduces_the_answer(self):
        for params in ({"optimizer": "nesterov", "lr": 0.2, "epochs": 30},
                       {"optimizer": "adamw,rmsprop", "lr": 0.01, "epochs": 20, "batch_size": 4,
                        "schedule": "step", "step_size": 5},
                       {"optimizer": "adagrad", "epochs": 10, "eps": 1e-6,
                        "schedule": "onecycle", "history_unit": "step"}):
            first = self.server.get("/train", params)
            self.assertEqual(first.status, 200, first.body[:300])
            again = self.server.post("/train", first.json["params"])
            self.assertEqual(again.status, 200, again.body[:300])
            self.assertEqual(again.body, first.body, params)

    def test_plain_gd_is_answered_as_before(self):
        plain = self.server.get("/train", {"epochs": 30})
        named = self.server.get("/train", {"epochs": 30, "optimizer": "gd"})
        self.assertEqual(plain.body, named.body)
        self.assertNotIn("optimizer", plain.json["runs"][0])
        self.assertNotIn("stability", plain.json["analysis"])

    def test_csv_report(self):
        r = self.server.get("/train", {"optimizer": "momentum", "lr": 0.1, "epochs": 2,
                                       "format": "csv"})
        self.assertEqual(r.status, 200)
        lines = r.body.decode().splitlines()
        self.assertEqual(lines[0], "optimizer,lr,epoch,b,w,train_loss,val_loss,lr_now")
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[1].startswith("momentum,0.1,0,"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
