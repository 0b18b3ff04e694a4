"""The tutorial's published numbers, through the API (seed 42, the book's defaults)."""
import unittest

from gdlab_api import Server


class TutorialTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def get(self, path, params=None):
        r = self.server.get(path, params)
        self.assertEqual(r.status, 200, r.body[:300])
        return r.json

    def test_random_start_and_its_loss(self):
        t = self.get("/train", {"epochs": 1})
        b0, w0 = t["params"]["b0"], t["params"]["w0"]
        # "b = 0.49 and w = -0.13" (the book truncates 0.4967 and -0.1383)
        self.assertEqual(b0, 0.4967141530112327)
        self.assertEqual(w0, -0.13826430117118466)
        self.assertEqual(int(b0 * 100) / 100, 0.49)
        self.assertEqual(int(w0 * 100) / 100, -0.13)
        self.assertEqual(round(t["runs"][0]["history"]["train_loss"][0], 2), 2.74)

    def test_one_step_at_lr_0_1(self):
        run = self.get("/train", {"lr": 0.1, "epochs": 1})["runs"][0]
        self.assertEqual(run["epochs_run"], 1)
        self.assertEqual(round(run["final"]["b"], 2), 0.80)
        self.assertEqual(round(run["final"]["w"], 3), 0.045)

    def test_cross_sections_and_gradients(self):
        c = self.get("/cross-section")
        self.assertEqual(round(c["point"]["b"], 2), 0.52)
        self.assertEqual(round(c["point"]["w"], 2), -0.16)
        by_fixed = {s["fixed"]: s for s in c["sections"]}
        along_w, along_b = by_fixed["b"], by_fixed["w"]
        self.assertEqual(along_w["varying"], "w")
        self.assertEqual(round(along_w["fixed_value"], 2), 0.52)
        self.assertEqual(round(along_b["fixed_value"], 2), -0.16)
        self.assertEqual(round(along_b["gradient"], 2), -3.04)
        self.assertEqual(round(along_w["gradient"], 2), -1.83)
        self.assertEqual(round(along_b["geometric"]["gradient"], 2), -2.90)
        self.assertEqual(round(along_w["geometric"]["gradient"], 2), -1.79)
        # "increasing w by 0.12 yields a loss reduction of 0.21", b: 0.35
        self.assertEqual(round(along_w["geometric"]["delta_param"], 2), 0.12)
        self.assertEqual(round(along_w["geometric"]["delta_loss"], 2), -0.21)
        self.assertEqual(round(along_b["geometric"]["delta_loss"], 2), -0.35)

    def test_surface_ranges_of_the_three_figures(self):
        for params, ranges in [({}, (-2, 4, -1, 5)),
                               ({"x_multiplier": 10}, (-2, 4, -2.8, 3.2)),
                               ({"x_multiplier": 10, "scaler": "standard"}, (-1, 5, -2.4, 3.6))]:
            with self.subTest(params=params):
                p = self.get("/surface", params)["params"]
                got = (p["b_min"], p["b_max"], p["w_min"], p["w_max"])
                for g, want in zip(got, ranges):
                    self.assertAlmostEqual(g, want, places=12)
                self.assertEqual((p["b_steps"], p["w_steps"]), (101, 101))

    def test_surface_minimum_near_true_parameters(self):
        s = self.get("/surface")
        self.assertEqual(len(s["loss"]), 101)
        self.assertEqual(round(s["grid_min"]["b"], 1), 1.0)
        self.assertEqual(round(s["grid_min"]["w"], 1), 2.0)
        self.assertEqual(s["loss"][s["grid_min"]["w_index"]][s["grid_min"]["b_index"]],
                         s["grid_min"]["loss"])

    def test_three_learning_rates(self):
        t = self.get("/train", {"lr": [0.2, 0.8, 1.1]})
        status = [r["status"] for r in t["runs"]]
        self.assertEqual(status[2], "diverged")
        self.assertNotIn("diverged", status[:2])
        self.assertEqual(round(t["analysis"]["lr_critical"], 4), 0.8055)
        lo, hi = t["analysis"]["hessian_eigenvalues"]
        self.assertEqual((round(lo, 4), round(hi, 4)), (0.1511, 2.4829))
        self.assertEqual(round(t["analysis"]["condition_number"], 2), 16.44)
        for run in t["runs"][:2]:
            self.assertLess(run["final"]["train_loss"], 0.01)
        # the diverging run overflows: its loss is written null (non-finite), or is huge
        last = t["runs"][2]["final"]["train_loss"]
        self.assertTrue(last is None or last > 1e6, last)
        self.assertIsInstance(t["runs"][2]["diverged_at"], int)

    def test_bad_feature_and_scaling(self):
        s = self.get("/scale", {"x_multiplier": 10})
        self.assertEqual(round(s["before"]["condition_number"]), 112)
        self.assertEqual(round(s["after"]["condition_number"], 9), 1)
        self.assertEqual(round(s["before"]["lr_critical"], 3), 0.031)
        self.assertEqual(round(s["after"]["lr_critical"], 9), 1)
        self.assertEqual(s["scaler"]["kind"], "standard")
        # lr 0.1 is too big for the bad feature and fine after standardization
        bad = self.get("/train", {"x_multiplier": 10, "lr": 0.1})["runs"][0]
        good = self.get("/train", {"x_multiplier": 10, "lr": 0.1, "scaler": "standard"})["runs"][0]
        self.assertEqual(bad["status"], "diverged")
        self.assertNotEqual(good["status"], "diverged")


if __name__ == "__main__":
    unittest.main(verbosity=2)
