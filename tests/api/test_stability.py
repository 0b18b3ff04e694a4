"""/stability, the map of how big is too big: every cell's spectral radius against numpy's roots of
that cell's characteristic polynomials, the grids against numpy's geomspace and linspace bit for
bit, the critical rates and Polyak's optimum against their formulas, and the map against real
/train runs: a cell that says it converges does, one that says it diverges does.

numpy.roots finds roots as the eigenvalues of the companion matrix: accurate to ~1e-15 relative
for well separated roots, but only to ~sqrt(eps) near a double root (the map's boundary between
real and complex roots, where the discriminant vanishes). The closed form is exact there; numpy is
not, so cells whose discriminant is within 1e-6 of zero are held to 1e-7, the others to 1e-12.
The momentum grid is numpy's linspace bit for bit; the log-spaced learning rates are
10**linspace(log10 lo, log10 hi) with libm's pow and log10, within two ulps of numpy.geomspace
(whose power and log10 are SVML's on processors with AVX-512).
"""
import unittest

import numpy as np

from gdlab_api import Server


def char_polys(opt, lr, beta, lam):
    """The characteristic polynomial of one eigen-direction (torch's SGD forms)."""
    a = 1.0 - lr * lam
    if opt == "gd":
        return [1.0, -a]
    if opt == "momentum":
        return [1.0, -(1.0 + beta - lr * lam), beta]
    return [1.0, -(1.0 + beta) * a, beta * a]


def near_double_root(coeffs):
    if len(coeffs) < 3:
        return False
    t, d = -coeffs[1], coeffs[2]
    return abs(t * t - 4 * d) < 1e-6


class Stability(unittest.TestCase):
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

    def test_every_cell_against_numpy_roots(self):
        cells = 0
        for opt, extra in (("gd", {}), ("momentum", {}), ("nesterov", {"momentum_min": 0.1}),
                           ("momentum", {"x_multiplier": 10}),
                           ("nesterov", {"scaler": "standard", "lr_spacing": "linear"})):
            m = self.get("/stability", dict(optimizer=opt, lr_steps=40, momentum_steps=25,
                                            **extra) if opt != "gd" else dict(lr_steps=200,
                                                                              **extra))
            lmin, lmax = m["analysis"]["hessian_eigenvalues"]
            for i, beta in enumerate(m["momentum"]):
                for j, lr in enumerate(m["lr"]):
                    want, loose = 0.0, False
                    for lam in (lmin, lmax):
                        c = char_polys(opt, lr, beta, lam)
                        want = max(want, float(np.max(np.abs(np.roots(c)))))
                        loose |= near_double_root(c)
                    got = m["rho"][i][j]
                    tol = 1e-7 if loose else 1e-12
                    self.assertLess(abs(got - want), tol * max(1.0, want), (opt, extra, lr, beta))
                    cells += 1
        self.assertGreater(cells, 3000)

    def test_grids_are_numpys(self):
        m = self.get("/stability", {"optimizer": "momentum", "lr_min": 0.001, "lr_max": 3,
                                    "lr_steps": 57, "momentum_min": 0.2, "momentum_max": 0.95,
                                    "momentum_steps": 13})
        # numpy's power and log10 may be SVML's on this processor, a last bit apart from libm's
        ref = np.geomspace(0.001, 3, 57)
        self.assertEqual((m["lr"][0], m["lr"][-1]), (0.001, 3.0))
        self.assertTrue(np.all(np.abs(np.array(m["lr"]) - ref) <= 2 * np.spacing(ref)))
        self.assertEqual(m["momentum"], np.linspace(0.2, 0.95, 13).tolist())
        lin = self.get("/stability", {"lr_min": 0.01, "lr_max": 2, "lr_steps": 9,
                                      "lr_spacing": "linear"})
        self.assertEqual(lin["lr"], np.linspace(0.01, 2, 9).tolist())
        self.assertEqual(lin["momentum"], [0.0])

    def test_critical_rates_and_polyak(self):
        for opt in ("gd", "momentum", "nesterov"):
            params = {"optimizer": opt, "lr_steps": 5}
            if opt != "gd":
                params["momentum_steps"] = 7
            m = self.get("/stability", params)
            lmin, lmax = m["analysis"]["hessian_eigenvalues"]
            for beta, crit in zip(m["momentum"], m["lr_critical"]):
                want = {"gd": 2 / lmax, "momentum": 2 * (1 + beta) / lmax,
                        "nesterov": 2 * (1 + beta) / ((1 + 2 * beta) * lmax)}[opt]
                self.assertAlmostEqual(crit, want, delta=1e-12 * want)
                # just below the critical rate converges, just above does not
                for scale, converges in ((0.999, True), (1.001, False)):
                    c = char_polys(opt, crit * scale, beta, lmax)
                    self.assertEqual(np.max(np.abs(np.roots(c))) < 1, converges, (opt, beta))
        p = m["polyak"]
        k = lmax / lmin
        q = (np.sqrt(k) - 1) / (np.sqrt(k) + 1)
        self.assertAlmostEqual(p["rate"], q, delta=1e-12)
        self.assertAlmostEqual(p["momentum"], q * q, delta=1e-12)
        self.assertAlmostEqual(p["lr"], 4 / (np.sqrt(lmax) + np.sqrt(lmin)) ** 2, delta=1e-12)
        # at Polyak's point the heavy ball contracts at exactly his rate
        rho = max(np.max(np.abs(np.roots(char_polys("momentum", p["lr"], p["momentum"], lam))))
                  for lam in (lmin, lmax))
        self.assertAlmostEqual(rho, q, delta=1e-7)

    def test_the_map_against_real_runs(self):
        """Cells away from the boundary: converging ones end at the optimum, diverging ones are
        called diverged by /train's rule."""
        checked = {"converges": 0, "diverges": 0}
        for opt in ("gd", "momentum", "nesterov"):
            params = {"optimizer": opt, "lr_steps": 12}
            if opt != "gd":
                params["momentum_steps"] = 5
            m = self.get("/stability", params)
            loss_opt = m["analysis"]["optimum"]["loss"]
            for i, beta in enumerate(m["momentum"]):
                for j, lr in enumerate(m["lr"]):
                    rho = m["rho"][i][j]
                    if 0.995 <= rho <= 1.02 or (opt == "nesterov" and beta == 0):
                        continue  # too slow to settle in a test, or torch's nesterov needs beta
                    run_params = {"optimizer": opt, "lr": lr, "history": 0,
                                  "epochs": 3000 if rho < 1 else 300}
                    if opt != "gd":
                        run_params["momentum"] = beta
                    else:
                        run_params["weight_decay"] = 0
                    run = self.get("/train", run_params)["runs"][0]
                    if rho < 1:
                        self.assertNotEqual(run["status"], "diverged", (opt, lr, beta, rho))
                        self.assertLess(run["final"]["train_loss"], loss_opt * (1 + 1e-6),
                                        (opt, lr, beta, rho))
                        checked["converges"] += 1
                    else:
                        self.assertEqual(run["status"], "diverged", (opt, lr, beta, rho))
                        checked["diverges"] += 1
        self.assertGreater(checked["converges"], 20)
        self.assertGreater(checked["diverges"], 10)


if __name__ == "__main__":
    unittest.main(verbosity=2)
