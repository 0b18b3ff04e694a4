"""Agreement with numpy and scikit-learn, computed here from the per-sample definitions, on seeds,
sizes, multipliers, splits and scalers other than the tutorial's. Generated data must match bit for
bit; closed-form results to 1e-12 relative (1e-13 absolute near zero); gradient-descent runs,
which repeat an update many times, to 1e-10."""
import unittest

import numpy as np
from sklearn.linear_model import LinearRegression
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from gdlab_api import Server

REL, ABS = 1e-12, 1e-13

CONFIGS = [
    dict(seed=0, n=2, train_fraction=0.5),
    dict(seed=1, n=7, noise=0.0, true_b=-3.5, true_w=0.25),
    dict(seed=4294967295, n=250, x_multiplier=10.0, scaler="standard"),
    dict(seed=123, n=1000, x_multiplier=-3.0, train_fraction=0.7, scaler="minmax"),
    dict(seed=2024, n=33, noise=2.5, x_multiplier=0.001, scaler="standard"),
    dict(seed=99, n=5000, train_fraction=0.9, true_w=-7.0),
]


def make_data(seed=42, n=100, true_b=1.0, true_w=2.0, noise=0.1, x_multiplier=1.0,
              train_fraction=0.8, scaler="none"):
    """The tutorial's numpy code, parameterised."""
    np.random.seed(seed)
    x = np.random.rand(n) * x_multiplier
    eps = noise * np.random.randn(n)
    y = true_b + (true_w / x_multiplier) * x + eps
    idx = np.arange(n)
    np.random.shuffle(idx)
    n_train = int(n * train_fraction)
    tr, va = idx[:n_train], idx[n_train:]
    xs = x.copy()
    sc = None
    if scaler != "none":
        sc = (StandardScaler() if scaler == "standard" else MinMaxScaler()).fit(
            x[tr].reshape(-1, 1))
        xs = sc.transform(x.reshape(-1, 1)).ravel()
    return x, xs, y, tr, va, sc


def start(seed):
    np.random.seed(seed)
    b = np.random.randn(1)[0]
    w = np.random.randn(1)[0]
    return b, w


def loss(x, y, b, w):
    return np.mean((b + w * x - y) ** 2)


def grad(x, y, b, w):
    e = b + w * x - y
    return 2 * np.mean(e), 2 * np.mean(x * e)


def analysis(x):
    h = 2 * np.array([[1.0, x.mean()], [x.mean(), np.mean(x * x)]])
    lam = np.linalg.eigvalsh(h)
    return h, lam


class ReferenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def close(self, got, want, rel=REL, abs_=ABS, what=""):
        got = np.asarray(got, dtype=float)
        want = np.asarray(want, dtype=float)
        self.assertEqual(got.shape, want.shape, what)
        err = np.abs(got - want)
        ok = err <= np.maximum(rel * np.abs(want), abs_)
        self.assertTrue(ok.all(), f"{what}: worst {err.max()} at {np.argmax(err)} "
                                  f"(got {got.ravel()[np.argmax(err)]}, "
                                  f"want {want.ravel()[np.argmax(err)]})")

    def api(self, path, params, post=False):
        r = self.server.post(path, params) if post else self.server.get(path, params)
        self.assertEqual(r.status, 200, r.body[:400])
        return r.json

    def test_dataset(self):
        for k, cfg in enumerate(CONFIGS):
            with self.subTest(cfg=cfg):
                x, xs, y, tr, va, sc = make_data(**cfg)
                d = self.api("/dataset", cfg, post=k % 2 == 1)
                for key, ids in (("train", tr), ("val", va)):
                    split = d[key]
                    self.assertEqual(split["idx"], ids.tolist())
                    self.assertEqual(split["y"], y[ids].tolist())  # bit for bit
                    if sc is None:
                        self.assertEqual(split["x"], x[ids].tolist())
                        self.assertNotIn("x_raw", split)
                    else:
                        self.assertEqual(split["x_raw"], x[ids].tolist())
                        self.close(split["x"], xs[ids], what="scaled x")
                    st = d["stats"][key]
                    self.assertEqual(st["n"], len(ids))
                    self.close([st["x_mean"], st["x_std"], st["y_mean"], st["y_std"]],
                               [xs[ids].mean(), xs[ids].std(), y[ids].mean(), y[ids].std()],
                               what="stats")
                if cfg.get("scaler") == "standard":
                    self.close([d["scaler"]["mean"], d["scaler"]["std"]],
                               [sc.mean_[0], sc.scale_[0]], what="scaler")
                elif cfg.get("scaler") == "minmax":
                    self.close([d["scaler"]["min"], d["scaler"]["max"]],
                               [sc.data_min_[0], sc.data_max_[0]], what="scaler")
                if len(tr) >= 2:
                    lr = LinearRegression().fit(xs[tr].reshape(-1, 1), y[tr])
                    b, w = lr.intercept_, lr.coef_[0]
                    self.close([d["optimum"]["b"], d["optimum"]["w"]], [b, w], rel=1e-11,
                               what="optimum")
                    self.close(d["optimum"]["loss"], loss(xs[tr], y[tr], b, w), rel=1e-9,
                               abs_=1e-12, what="optimum loss")

    def test_inline_data(self):
        rng = np.random.default_rng(5)
        x = rng.normal(3.0, 2.0, 40)
        y = 0.5 - 1.5 * x + rng.normal(0, 0.3, 40)
        d = self.api("/dataset", {"x": x.tolist(), "y": y.tolist(), "seed": 11,
                                  "x_multiplier": 2.0, "scaler": "standard"}, post=True)
        np.random.seed(11)
        idx = np.arange(40)
        np.random.shuffle(idx)
        tr = idx[:32]
        self.assertEqual(d["train"]["idx"], tr.tolist())
        self.assertEqual(d["train"]["x_raw"], (x * 2.0)[tr].tolist())
        sc = StandardScaler().fit((x * 2.0)[tr].reshape(-1, 1))
        self.close(d["train"]["x"], sc.transform((x * 2.0)[tr].reshape(-1, 1)).ravel())
        self.assertEqual(d["params"]["n"], 40)
        self.assertEqual(d["params"]["x"], x.tolist())

    def test_surface(self):
        for cfg in CONFIGS[1:5]:
            for split in ("train", "val"):
                with self.subTest(cfg=cfg, split=split):
                    x, xs, y, tr, va, _ = make_data(**cfg)
                    ids = tr if split == "train" else va
                    params = dict(cfg, b_min=-1.5, b_max=2.25, w_min=-4.0, w_max=3.0,
                                  b_steps=37, w_steps=23, split=split)
                    s = self.api("/surface", params)
                    bs, ws = np.linspace(-1.5, 2.25, 37), np.linspace(-4.0, 3.0, 23)
                    self.assertEqual(s["b"], bs.tolist())
                    self.assertEqual(s["w"], ws.tolist())
                    bb, ww = np.meshgrid(bs, ws)
                    ref = np.mean((bb[..., None] + ww[..., None] * xs[ids] - y[ids]) ** 2, axis=2)
                    self.close(s["loss"], ref, what="surface")
                    i, j = np.unravel_index(np.argmin(ref), ref.shape)
                    self.assertEqual((s["grid_min"]["w_index"], s["grid_min"]["b_index"]), (i, j))

    def test_default_surface_range(self):
        for cfg in CONFIGS[2:5]:
            with self.subTest(cfg=cfg):
                x, xs, y, tr, va, _ = make_data(**cfg)
                lr = LinearRegression().fit(xs[tr].reshape(-1, 1), y[tr])
                p = self.api("/surface", dict(cfg, b_steps=3, w_steps=3))["params"]
                b_c, w_c = np.round(lr.intercept_, 1), np.round(lr.coef_[0], 1)
                self.close([p["b_min"], p["b_max"], p["w_min"], p["w_max"]],
                           [b_c - 3, b_c + 3, w_c - 3, w_c + 3], what="range")

    def test_cross_section(self):
        for cfg in CONFIGS[1:5]:
            with self.subTest(cfg=cfg):
                x, xs, y, tr, va, _ = make_data(**cfg)
                b0, w0 = start(cfg["seed"])
                c = self.api("/cross-section", dict(cfg, b_min=-2, b_max=4, w_min=-3, w_max=3,
                                                    b_steps=61, w_steps=41, delta=0.3))
                bs, ws = np.linspace(-2, 4, 61), np.linspace(-3, 3, 41)
                bi, wi = np.argmin(np.abs(bs - b0)), np.argmin(np.abs(ws - w0))
                pb, pw = bs[bi], ws[wi]
                self.assertEqual((c["point"]["b"], c["point"]["w"]), (pb, pw))
                self.assertEqual((c["point"]["b_index"], c["point"]["w_index"]), (bi, wi))
                gb, gw = grad(xs[tr], y[tr], b0, w0)
                sec = {s["varying"]: s for s in c["sections"]}
                self.close([sec["b"]["gradient"], sec["w"]["gradient"]], [gb, gw],
                           what="gradient")
                self.close(sec["w"]["loss"], [loss(xs[tr], y[tr], pb, v) for v in ws],
                           what="curve along w")
                self.close(sec["b"]["loss"], [loss(xs[tr], y[tr], v, pw) for v in bs],
                           what="curve along b")
                tb = bs[np.argmin(np.abs(bs - (pb + 0.3)))]
                geo_b = (loss(xs[tr], y[tr], tb, pw) - loss(xs[tr], y[tr], pb, pw)) / (tb - pb)
                self.close(sec["b"]["geometric"]["gradient"], geo_b, rel=1e-9, what="geometric")

    def test_train(self):
        for cfg in CONFIGS[1:5]:
            for lr_scale in (0.5, 0.95, 1.05):
                with self.subTest(cfg=cfg, lr_scale=lr_scale):
                    x, xs, y, tr, va, _ = make_data(**cfg)
                    h, lam = analysis(xs[tr])
                    lr = lr_scale * 2 / lam[1]
                    b, w = start(cfg["seed"])
                    epochs = 60
                    hist = [(b, w)]
                    for _ in range(epochs):
                        gb, gw = grad(xs[tr], y[tr], b, w)
                        b, w = b - lr * gb, w - lr * gw
                        hist.append((b, w))
                    t = self.api("/train", dict(cfg, lr=lr, epochs=epochs, history=epochs + 1),
                                 post=True)
                    run = t["runs"][0]
                    scale = max(1.0, abs(b), abs(w))
                    self.close([run["final"]["b"], run["final"]["w"]], [b, w], rel=1e-10,
                               abs_=1e-10 * scale, what="final")
                    self.close(run["final"]["val_loss"], loss(xs[va], y[va], b, w), rel=1e-9,
                               what="val loss")
                    self.close(np.c_[run["history"]["b"], run["history"]["w"]], hist, rel=1e-10,
                               abs_=1e-10 * scale, what="history")
                    self.assertEqual(run["status"] == "diverged", lr_scale > 1)
                    a = t["analysis"]
                    self.close(a["hessian"], h, what="hessian")
                    self.close(a["hessian_eigenvalues"], lam, rel=1e-11, what="eigenvalues")
                    self.close([a["condition_number"], a["lr_critical"], a["lr_optimal"]],
                               [lam[1] / lam[0], 2 / lam[1], 2 / (lam[0] + lam[1])], rel=1e-11,
                               what="rates")

    def test_scale(self):
        for cfg in CONFIGS[2:5]:
            for scaler in ("standard", "minmax", "none"):
                with self.subTest(cfg=cfg, scaler=scaler):
                    x, xs, y, tr, va, _ = make_data(**dict(cfg, scaler=scaler))
                    s = self.api("/scale", dict(cfg, scaler=scaler))
                    self.assertEqual(s["train"]["x_raw"], x[tr].tolist())
                    self.close(s["val"]["x"], xs[va], what="scaled val")
                    for key, feat in (("before", x[tr]), ("after", xs[tr])):
                        _, lam = analysis(feat)
                        self.close([s[key]["condition_number"], s[key]["lr_critical"]],
                                   [lam[1] / lam[0], 2 / lam[1]], rel=1e-11, what=key)


if __name__ == "__main__":
    unittest.main(verbosity=2)
