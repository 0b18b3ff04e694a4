"""Every error case of the API, from the data table error_cases.json, plus a random sweep of bad
input that must never crash the server or get a 5xx."""
import json
import os
import random
import urllib.parse
import unittest

from gdlab_api import Response, Server

HERE = os.path.dirname(os.path.abspath(__file__))
SMALL_LIMITS = ["--max-n", "50", "--max-grid-points", "100", "--max-epochs", "10",
                "--max-history", "5", "--max-lrs", "2", "--max-runs", "3", "--max-body", "1000"]
# every computation is past its deadline before it starts
LATE = ["--deadline", "0.000000001"]


def load_cases():
    with open(os.path.join(HERE, "error_cases.json"), encoding="utf-8") as f:
        return json.load(f)["cases"]


class ErrorTableTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.servers = {"default": Server().__enter__(), "small": Server(*SMALL_LIMITS).__enter__(),
                       "late": Server(*LATE).__enter__()}

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers.values():
            s.__exit__(None, None, None)

    def send(self, server, case):
        if "get" in case:
            return server.request("GET", case["get"])
        method, path = case["method"], case["path"]
        headers = {}
        ctype = case.get("content_type", "application/json")
        if ctype:
            headers["Content-Type"] = ctype
        if "body" in case:
            body = json.dumps(case["body"]).encode()
        elif "pad" in case:
            body = ('{"seed": 1' + " " * case["pad"] + "}").encode()
        elif "raw" in case:
            body = case["raw"].encode()
        else:
            body = None
        if case.get("chunked"):
            conn = server.connection()
            try:
                pieces = [body[i:i + 100] for i in range(0, len(body), 100)]
                conn.request(method, path, body=iter(pieces), headers=headers,
                             encode_chunked=True)
                r = conn.getresponse()
                return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
            finally:
                conn.close()
        return server.request(method, path, body=body, headers=headers)

    def test_error_table(self):
        cases = load_cases()
        self.assertGreater(len(cases), 90)
        for case in cases:
            label = case.get("get") or f'{case["method"]} {case["path"]} {case.get("body", "")}'
            with self.subTest(case=label[:120]):
                server = self.servers[case.get("server", "default")]
                r = self.send(server, case)
                self.assertEqual(r.status, case["status"], r.body[:300])
                self.assertEqual(r.content_type, "application/problem+json")
                p = r.json
                self.assertEqual(p["type"], "/problems/" + case["type"])
                self.assertEqual(p["status"], case["status"])
                self.assertTrue(p["title"])
                self.assertTrue(p["detail"])
                path = case.get("get") or case["path"]
                self.assertEqual(p["instance"], urllib.parse.urlsplit(path).path)
                if case["param"] is None:
                    self.assertNotIn("param", p)
                else:
                    self.assertEqual(p.get("param"), case["param"], p["detail"])
                if "detail" in case:
                    self.assertIn(case["detail"], p["detail"])
                if "allow" in case:
                    self.assertEqual(r.headers.get("allow"), case["allow"])
                self.assertEqual(r.headers.get("retry-after"), case.get("retry_after"))
        for s in self.servers.values():
            self.assertEqual(s.get("/health").status, 200)

    def test_problem_types_are_documented(self):
        server = self.servers["default"]
        seen = {}
        for case in load_cases():
            seen[case["type"]] = case["status"]
        self.assertGreaterEqual(len(seen), 9)
        for slug, status in seen.items():
            with self.subTest(type=slug):
                r = server.get("/problems/" + slug)
                self.assertEqual(r.status, 200)
                self.assertEqual(r.json["type"], "/problems/" + slug)
                self.assertEqual(r.json["status"], status)
                self.assertTrue(r.json["title"])
                self.assertTrue(r.json["description"])
        self.assertEqual(server.get("/problems/no-such-type").status, 404)

    def test_defaults_yield_to_lower_limits(self):
        # the defaults (n 100, epochs 1000, history 1001) must not exceed the small server's
        # --max-n 50, --max-epochs 10 and --max-history 5
        r = self.servers["small"].get("/train")
        self.assertEqual(r.status, 200, r.body[:200])
        self.assertEqual(r.json["params"]["n"], 50)
        self.assertEqual(r.json["params"]["epochs"], 10)
        self.assertEqual(r.json["params"]["history"], 5)
        self.assertEqual(r.json["runs"][0]["history"]["epoch"], [0, 2, 5, 7, 10])

    def test_random_bad_input_never_5xx(self):
        rng = random.Random(3)
        names = ["seed", "n", "true_b", "noise", "x_multiplier", "train_fraction", "scaler",
                 "b_min", "b_max", "w_min", "w_steps", "b_steps", "split", "b", "w", "snap",
                 "delta", "lr", "epochs", "b0", "history", "tol", "optimizer", "x", "y", "zz",
                 "", "%", "seed[]"]
        values = ["", "-", "0", "-0", "1", "2", "1e308", "-1e308", "1e-320", "0x10", "nan",
                  "inf", "1,2", ",", "true", "false", "none", "standard", "minmax", "val",
                  "\u00e9", "%ff", "%00", "9" * 400, "0.5", "3", "-7", "1e5", "gd", " 1", "1 "]
        paths = ["/dataset", "/surface", "/cross-section", "/train", "/scale"]
        server = self.servers["small"]
        for _ in range(400):
            path = rng.choice(paths)
            query = "&".join(f"{rng.choice(names)}={rng.choice(values)}"
                             for _ in range(rng.randint(1, 4)))
            r = server.request("GET", path + "?" + urllib.parse.quote(query, safe="%,=&"))
            self.assertIn(r.status, (200, 400), f"{path}?{query}: {r.body[:200]}")
            bodies = [{rng.choice(names): rng.choice([None, True, [], {}, "x", -1, 1.5, 1e300,
                                                      [1, 2], [[1]], rng.choice(values)])}]
            for body in bodies:
                r = server.post(path, body)
                self.assertIn(r.status, (200, 400), f"{path} {body}: {r.body[:200]}")
        self.assertEqual(server.get("/health").status, 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
