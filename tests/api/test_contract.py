"""The HTTP contract: every endpoint by GET and by POST, params echoed, content types, the index,
static files, keep-alive, CORS, and a clean stop on SIGTERM with a request in flight."""
import http.client
import json
import os
import signal
import socket
import tempfile
import threading
import time
import unittest

from gdlab_api import Server

ENDPOINTS = {
    "/dataset": {"seed": 7, "n": 30, "noise": 0.2, "scaler": "minmax"},
    "/surface": {"seed": 7, "n": 30, "b_steps": 11, "w_steps": 7, "split": "val"},
    "/cross-section": {"seed": 7, "n": 30, "b": 0.3, "w": 1.5, "snap": False, "delta": 0.05},
    "/train": {"seed": 7, "n": 30, "lr": [0.05, 0.5], "epochs": 50, "history": 11, "tol": 0.0},
    "/scale": {"seed": 7, "n": 30, "x_multiplier": 10.0, "scaler": "standard"},
    "/stability": {"seed": 7, "n": 30, "optimizer": "nesterov", "lr_min": 0.01, "lr_max": 3.0,
                   "lr_steps": 12, "lr_spacing": "linear", "momentum_min": 0.1,
                   "momentum_max": 0.9, "momentum_steps": 5},
    "/lr-finder": {"seed": 7, "n": 30, "b0": 0.5, "w0": -1.0, "optimizer": "gd", "start_lr": 0.001,
                   "end_lr": 5.0, "num_iter": 40, "step_mode": "linear", "smooth_f": 0.1,
                   "diverge_th": 4.0},
}

DATA_PARAMS = ["seed", "n", "true_b", "true_w", "noise", "x_multiplier", "train_fraction",
               "scaler"]
PARAMS = {
    "/dataset": DATA_PARAMS,
    "/surface": DATA_PARAMS + ["b_min", "b_max", "w_min", "w_max", "b_steps", "w_steps", "split"],
    "/cross-section": DATA_PARAMS + ["b_min", "b_max", "w_min", "w_max", "b_steps", "w_steps",
                                     "split", "b", "w", "snap", "delta"],
    "/train": DATA_PARAMS + ["lr", "epochs", "b0", "w0", "optimizer", "history", "tol"],
    "/scale": DATA_PARAMS,
    "/stability": DATA_PARAMS + ["optimizer", "lr_min", "lr_max", "lr_steps", "lr_spacing",
                                 "momentum_min", "momentum_max", "momentum_steps"],
    "/lr-finder": DATA_PARAMS + ["b0", "w0", "optimizer", "start_lr", "end_lr", "num_iter",
                                 "step_mode", "smooth_f", "diverge_th"],
}
# /train's parameters beyond plain gradient descent: a request that gives none of them (and no
# optimizer but gd) is answered as before them, and echoes only PARAMS["/train"].
TRAIN_OPTIM_PARAMS = ["momentum", "beta1", "beta2", "alpha", "eps", "weight_decay", "batch_size",
                      "shuffle", "shuffle_seed", "schedule", "step_size", "gamma", "t_max",
                      "eta_min", "history_unit"]


class ContractTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)

    def test_get_and_post_agree_and_echo_params(self):
        for path, params in ENDPOINTS.items():
            with self.subTest(path=path):
                g = self.server.get(path, params)
                p = self.server.post(path, params)
                self.assertEqual(g.status, 200, g.body[:300])
                self.assertEqual(p.status, 200, p.body[:300])
                self.assertEqual(g.content_type, "application/json")
                self.assertEqual(g.json, p.json)
                echoed = g.json["params"]
                self.assertEqual(sorted(echoed), sorted(PARAMS[path]))
                for k, v in params.items():
                    self.assertEqual(echoed[k], v if k != "lr" else list(v), k)
                # the echo reproduces the answer
                again = self.server.post(path, echoed)
                self.assertEqual(again.json, g.json)

    def test_report_echo_reproduces_the_answer(self):
        """A request beyond plain gd echoes the parameters its optimizers, batches and schedule
        read, with the defaults that depend on others resolved (shuffle_seed, gamma, t_max), and
        POSTing that echo back gives the same answer."""
        params = {"seed": 7, "n": 30, "optimizer": ["nesterov", "adam"], "lr": [0.05, 0.5],
                  "epochs": 20, "history": 5, "batch_size": 4, "schedule": "cosine"}
        g = self.server.get("/train", params)
        self.assertEqual(g.status, 200, g.body[:300])
        echoed = g.json["params"]
        self.assertEqual(sorted(echoed), sorted(
            PARAMS["/train"] + ["momentum", "beta1", "beta2", "batch_size", "shuffle",
                                "shuffle_seed", "schedule", "t_max", "eta_min"]))
        self.assertEqual((echoed["shuffle"], echoed["shuffle_seed"], echoed["t_max"]),
                         (True, 7, 20))
        again = self.server.post("/train", echoed)
        self.assertEqual(again.json, g.json)

    def test_defaults_are_echoed(self):
        r = self.server.get("/train")
        self.assertEqual(r.json["params"], {
            "seed": 42, "n": 100, "true_b": 1.0, "true_w": 2.0, "noise": 0.1,
            "x_multiplier": 1.0, "train_fraction": 0.8, "scaler": "none", "lr": [0.1],
            "epochs": 1000, "b0": 0.4967141530112327, "w0": -0.13826430117118466,
            "optimizer": "gd", "history": 1001, "tol": 0.0})
        self.assertEqual(self.server.get("/scale").json["params"]["scaler"], "standard")
        s = self.server.get("/surface").json["params"]
        self.assertEqual((s["b_min"], s["b_max"], s["w_min"], s["w_max"]), (-2, 4, -1, 5))
        self.assertEqual((s["b_steps"], s["w_steps"], s["split"]), (101, 101, "train"))
        c = self.server.get("/cross-section").json["params"]
        self.assertEqual((c["b"], c["w"], c["snap"], c["delta"]),
                         (0.4967141530112327, -0.13826430117118466, True, 0.12))

    def test_response_shapes(self):
        d = self.server.get("/dataset", {"scaler": "standard"}).json
        for split in ("train", "val"):
            self.assertEqual(sorted(d[split]), ["idx", "x", "x_raw", "y"])
        self.assertEqual(sorted(d["scaler"]), ["kind", "mean", "std"])
        self.assertEqual(sorted(d["stats"]["train"]), ["n", "x_mean", "x_std", "y_mean", "y_std"])
        self.assertEqual(sorted(d["optimum"]), ["b", "loss", "w"])
        self.assertNotIn("x_raw", self.server.get("/dataset").json["train"])
        self.assertEqual(self.server.get("/dataset").json["scaler"], {"kind": "none"})
        self.assertEqual(sorted(self.server.get("/dataset", {"scaler": "minmax"}).json["scaler"]),
                         ["kind", "max", "min"])

        s = self.server.get("/surface", {"b_steps": 5, "w_steps": 3}).json
        self.assertEqual(len(s["b"]), 5)
        self.assertEqual(len(s["w"]), 3)
        self.assertEqual([len(row) for row in s["loss"]], [5, 5, 5])
        self.assertEqual(sorted(s["grid_min"]), ["b", "b_index", "loss", "w", "w_index"])

        c = self.server.get("/cross-section").json
        self.assertEqual(sorted(c["point"]), ["b", "b_index", "loss", "w", "w_index"])
        self.assertEqual([(x["fixed"], x["varying"]) for x in c["sections"]],
                         [("b", "w"), ("w", "b")])
        for sec in c["sections"]:
            self.assertEqual(sorted(sec["geometric"]),
                             ["delta_loss", "delta_param", "from", "gradient", "to"])
            self.assertEqual(len(sec["values"]), len(sec["loss"]))

        t = self.server.get("/train", {"lr": [0.1, 1.5], "epochs": 10}).json
        self.assertEqual(len(t["runs"]), 2)
        run = t["runs"][0]
        self.assertEqual(sorted(run), ["diverged_at", "epochs_run", "final", "history", "lr",
                                       "status"])
        self.assertEqual(sorted(run["final"]),
                         ["b", "grad_b", "grad_w", "train_loss", "val_loss", "w"])
        self.assertEqual(run["history"]["epoch"], list(range(11)))
        self.assertEqual(sorted(t["analysis"]),
                         ["condition_number", "hessian", "hessian_eigenvalues", "lr_critical",
                          "lr_optimal", "optimum"])
        self.assertEqual(t["runs"][1]["status"], "diverged")
        self.assertIsInstance(t["runs"][1]["diverged_at"], int)

        sc = self.server.get("/scale").json
        self.assertEqual(sorted(sc), ["after", "before", "params", "scaler", "train", "val"])
        self.assertEqual(sorted(sc["train"]), ["x", "x_raw"])

        st = self.server.get("/stability", {"optimizer": "momentum", "lr_steps": 4,
                                            "momentum_steps": 3}).json
        self.assertEqual(sorted(st), ["analysis", "lr", "lr_critical", "momentum", "params",
                                      "polyak", "rho"])
        self.assertEqual((len(st["lr"]), len(st["momentum"]), len(st["lr_critical"])), (4, 3, 3))
        self.assertEqual([len(row) for row in st["rho"]], [4, 4, 4])
        self.assertEqual(sorted(st["polyak"]), ["lr", "momentum", "rate"])
        gd = self.server.get("/stability", {"lr_steps": 2}).json
        self.assertEqual((gd["momentum"], len(gd["rho"])), ([0.0], 1))
        self.assertNotIn("momentum_steps", gd["params"])

        lf = self.server.get("/lr-finder", {"num_iter": 20}).json
        self.assertEqual(sorted(lf), ["analysis", "loss", "lr", "lr_critical",
                                      "lr_critical_optimizer", "lr_optimal", "min_loss",
                                      "params", "raw_loss", "stopped_at", "suggestion"])
        self.assertEqual(sorted(lf["suggestion"]), ["index", "lr"])
        self.assertEqual(sorted(lf["min_loss"]), ["index", "loss", "lr"])
        count = 20 if lf["stopped_at"] is None else lf["stopped_at"] + 1
        self.assertEqual((len(lf["lr"]), len(lf["loss"]), len(lf["raw_loss"])), (count,) * 3)
        few = self.server.get("/lr-finder", {"optimizer": "adam", "num_iter": 5}).json
        self.assertEqual(few["suggestion"], {"index": None, "lr": None})
        self.assertIsNone(few["lr_critical_optimizer"])

    def test_history_sampling(self):
        t = self.server.get("/train", {"epochs": 1000, "history": 5}).json
        self.assertEqual(t["runs"][0]["history"]["epoch"], [0, 250, 500, 750, 1000])
        none = self.server.get("/train", {"history": 0}).json["runs"][0]["history"]
        self.assertEqual(none, {"epoch": [], "b": [], "w": [], "train_loss": [], "val_loss": []})

    def test_non_finite_values_are_null(self):
        # lr 5 explodes past the double range within 1000 epochs
        r = self.server.get("/train", {"lr": 5.0, "epochs": 1000})
        self.assertEqual(r.status, 200)
        run = r.json["runs"][0]
        self.assertEqual(run["status"], "diverged")
        self.assertIn(None, run["final"].values())
        self.assertNotIn(b"NaN", r.body)
        self.assertNotIn(b"Infinity", r.body)

    def test_index_and_health(self):
        h = self.server.get("/health")
        self.assertEqual((h.status, h.json), (200, {"status": "ok"}))
        idx = self.server.get("/")
        self.assertEqual(idx.status, 200)
        self.assertEqual(idx.content_type, "application/json")
        self.assertEqual(idx.json["name"], "gdlab")
        self.assertRegex(idx.json["version"], r"^\d+\.\d+\.\d+$")
        paths = [e["path"] for e in idx.json["endpoints"]]
        for p in ["/", "/health", "/dataset", "/surface", "/cross-section", "/train", "/scale",
                  "/stability", "/lr-finder"]:
            self.assertIn(p, paths)
        train = next(e for e in idx.json["endpoints"] if e["path"] == "/train")
        # format (json or csv) picks the representation and is not echoed in params
        self.assertEqual(sorted(train["params"]),
                         sorted(PARAMS["/train"] + TRAIN_OPTIM_PARAMS + ["x", "y", "format"]))
        self.assertEqual(train["methods"], ["GET", "POST"])

    def test_head_and_options(self):
        g = self.server.get("/dataset")
        h = self.server.request("HEAD", "/dataset")
        self.assertEqual(h.status, 200)
        self.assertEqual(h.body, b"")
        self.assertEqual(int(h.headers["content-length"]), len(g.body))
        o = self.server.request("OPTIONS", "/train")
        self.assertEqual(o.status, 204)
        self.assertEqual(o.headers["allow"], "GET, HEAD, POST, OPTIONS")

    def test_keep_alive_reuses_one_connection(self):
        conn = self.server.connection()
        try:
            first = self.server.get("/health", conn=conn)
            sock = conn.sock
            port = sock.getsockname()[1]
            second = self.server.get("/dataset", {"n": 10}, conn=conn)
            third = self.server.post("/train", {"epochs": 3}, conn=conn)
            fourth = self.server.get("/nope", conn=conn)
            fifth = self.server.get("/health", conn=conn)
            self.assertEqual([r.status for r in (first, second, third, fourth, fifth)],
                             [200, 200, 200, 404, 200])
            self.assertIs(conn.sock, sock)
            self.assertEqual(conn.sock.getsockname()[1], port)
            for r in (first, second, third, fourth, fifth):
                self.assertNotEqual(r.headers.get("connection", "").lower(), "close")
        finally:
            conn.close()

    def test_access_log(self):
        self.server.get("/nope-for-the-log")
        time.sleep(0.1)
        self.assertRegex(self.server.log_text(), r"(?m)^GET /nope-for-the-log 404 \d+ \d+us$")


class StaticFilesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        root = os.path.join(cls.tmp.name, "web")
        os.makedirs(os.path.join(root, "js"))
        files = {"index.html": b"<!doctype html><title>gdlab</title>",
                 "app.js": b"export const x = 1;\n", "js/mod.mjs": b"export {};\n",
                 "style.css": b"body{}", "data.json": b"{}", "pic.svg": b"<svg/>",
                 "font.woff2": b"wOF2", "app.js.map": b"{}", "img.png": b"\x89PNG",
                 ".hidden": b"secret"}
        for name, data in files.items():
            with open(os.path.join(root, name), "wb") as f:
                f.write(data)
        with open(os.path.join(cls.tmp.name, "outside.txt"), "wb") as f:
            f.write(b"outside")
        os.symlink(os.path.join(cls.tmp.name, "outside.txt"), os.path.join(root, "escape.txt"))
        os.symlink(os.path.join(root, "app.js"), os.path.join(root, "inside.js"))
        cls.server = Server("--web-root", root).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.server.__exit__(None, None, None)
        cls.tmp.cleanup()

    def test_mime_types_and_caching(self):
        for name, ctype in [("app.js", "text/javascript"), ("js/mod.mjs", "text/javascript"),
                            ("style.css", "text/css"), ("data.json", "application/json"),
                            ("pic.svg", "image/svg+xml"), ("font.woff2", "font/woff2"),
                            ("app.js.map", "application/json"), ("img.png", "image/png"),
                            ("index.html", "text/html"), ("inside.js", "text/javascript")]:
            with self.subTest(name=name):
                r = self.server.get("/static/" + name)
                self.assertEqual(r.status, 200)
                self.assertTrue(r.content_type.startswith(ctype), r.content_type)
                self.assertIn("max-age", r.headers["cache-control"])
                etag = r.headers["etag"]
                again = self.server.get("/static/" + name, headers={"If-None-Match": etag})
                self.assertEqual(again.status, 304)

    def test_no_escape_from_the_root(self):
        for path in ["/static/../outside.txt", "/static/%2e%2e/outside.txt",
                     "/static/js/../../outside.txt", "/static//etc/passwd",
                     "/static/%2Fetc%2Fpasswd", "/static/escape.txt", "/static/.hidden",
                     "/static/app.js%00.png", "/static/js", "/static/", "/static/missing.js"]:
            with self.subTest(path=path):
                r = self.server.request("GET", path)
                self.assertEqual(r.status, 404, path)
                self.assertEqual(r.content_type, "application/problem+json")

    def test_root_negotiates_html_or_json(self):
        browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        html = self.server.get("/", headers={"Accept": browser})
        self.assertEqual(html.status, 200)
        self.assertTrue(html.content_type.startswith("text/html"))
        self.assertIn(b"<title>gdlab</title>", html.body)
        self.assertIn("Accept", html.headers.get("vary", ""))
        for accept in [None, "*/*", "application/json", "application/json, text/html;q=0.5"]:
            with self.subTest(accept=accept):
                r = self.server.get("/", headers={"Accept": accept} if accept else {})
                self.assertEqual(r.content_type, "application/json")
                self.assertEqual(r.json["name"], "gdlab")

    def test_static_only_get(self):
        r = self.server.post("/static/app.js", {})
        self.assertEqual(r.status, 405)
        self.assertEqual(r.headers["allow"], "GET, HEAD, OPTIONS")


class CorsTest(unittest.TestCase):
    def test_cors_origin(self):
        with Server("--cors-origin", "http://example.test") as s:
            r = s.get("/health")
            self.assertEqual(r.headers["access-control-allow-origin"], "http://example.test")
            e = s.get("/nope")
            self.assertEqual(e.headers["access-control-allow-origin"], "http://example.test")
            pre = s.request("OPTIONS", "/train", headers={
                "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type"})
            self.assertEqual(pre.status, 204)
            self.assertIn("POST", pre.headers["access-control-allow-methods"])
            self.assertIn("Content-Type", pre.headers["access-control-allow-headers"])
        with Server() as s:  # issue 4: browser front-ends are allowed by default
            self.assertEqual(s.get("/health").headers["access-control-allow-origin"], "*")
        with Server("--cors-origin", "off") as s:
            self.assertNotIn("access-control-allow-origin", s.get("/health").headers)


class ShutdownTest(unittest.TestCase):
    def test_sigterm_lets_requests_in_flight_finish(self):
        with Server() as s:
            # A request is in flight from its headers on: send them and half the body, signal,
            # check that the server waits, then send the rest and expect the full answer.
            body = json.dumps({"lr": [0.2, 0.8, 1.1], "epochs": 100}).encode()
            head = (f"POST /train HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=60)
            try:
                sock.sendall(head.encode() + body[:10])
                time.sleep(0.3)
                s.proc.send_signal(signal.SIGTERM)
                time.sleep(0.5)
                self.assertIsNone(s.proc.poll(), "the server quit with a request in flight")
                with self.assertRaises(OSError):
                    socket.create_connection(("127.0.0.1", s.port), timeout=5).close()
                sock.sendall(body[10:])
                response = http.client.HTTPResponse(sock)
                response.begin()
                self.assertEqual(response.status, 200)
                answer = json.loads(response.read())
            finally:
                sock.close()
            self.assertEqual(len(answer["runs"]), 3)
            self.assertEqual(s.proc.wait(60), 0)
            log = s.log_text()
            self.assertLess(log.index("finishing requests in flight"), log.index("POST /train 200"))
            self.assertIn("gdlab: stopped\n", log)

    def test_sigint_exits_zero(self):
        with Server() as s:
            self.assertEqual(s.stop(signal.SIGINT), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
