"""The HTTP conventions API users expect, against the real server: CORS, ETag and 304,
Cache-Control, HEAD, gzip, CSV, /metrics, /ready, and the served OpenAPI document and explorer."""
import csv
import gzip
import io
import json
import os
import re
import time
import unittest

import yaml

from checks import check_response
from contract_lib import OPENAPI, Draining, Server, Spec

SPEC = Spec()
COMPUTE = ["/dataset", "/surface", "/cross-section", "/train", "/scale", "/stability",
           "/lr-finder"]
server = None


def setUpModule():
    global server
    server = Server().__enter__()


def tearDownModule():
    server.__exit__(None, None, None)


def header_list(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


class Cors(unittest.TestCase):
    def test_default_origin_is_star(self):
        for path in ["/", "/health", "/dataset", "/openapi.json"]:
            with self.subTest(path=path):
                resp = server.get(path, headers={"Origin": "http://page.test"})
                self.assertEqual(resp.headers.get("access-control-allow-origin"), "*")
                self.assertNotIn("access-control-allow-credentials", resp.headers)

    def test_errors_carry_cors_too(self):
        resp = server.get("/dataset", query={"n": 1}, headers={"Origin": "http://page.test"})
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.headers.get("access-control-allow-origin"), "*")

    def test_preflight(self):
        resp = server.request("OPTIONS", "/train", headers={
            "Origin": "http://page.test", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(resp.status, 204)
        self.assertEqual(resp.raw, b"")
        self.assertEqual(header_list(resp.headers["access-control-allow-methods"]),
                         {"get", "head", "post", "options"})
        self.assertIn("content-type", header_list(resp.headers["access-control-allow-headers"]))
        self.assertIn("if-none-match", header_list(resp.headers["access-control-allow-headers"]))
        self.assertGreater(int(resp.headers["access-control-max-age"]), 0)
        # a page's script may read the ETag of an actual answer
        resp = server.get("/scale", headers={"Origin": "http://page.test"})
        self.assertIn("etag", header_list(resp.headers.get("access-control-expose-headers")))
        # an answer with neither an ETag nor an encoding has nothing to expose, and a body too
        # short to compress does not vary with Accept-Encoding
        resp = server.get("/health", headers={"Origin": "http://page.test"})
        self.assertEqual(resp.headers.get("access-control-allow-origin"), "*")
        self.assertNotIn("access-control-expose-headers", resp.headers)
        self.assertNotIn("accept-encoding", header_list(resp.headers.get("vary")))

    def test_configured_origin(self):
        with Server("--cors-origin", "https://tutorial.test") as s:
            resp = s.get("/health", headers={"Origin": "https://tutorial.test"})
            self.assertEqual(resp.headers.get("access-control-allow-origin"),
                             "https://tutorial.test")
            self.assertIn("origin", header_list(resp.headers.get("vary")))

    def test_cors_off(self):
        with Server("--cors-origin", "off") as s:
            resp = s.get("/health", headers={"Origin": "https://tutorial.test"})
            self.assertNotIn("access-control-allow-origin", resp.headers)


class Caching(unittest.TestCase):
    def test_strong_etag_and_304(self):
        for path in COMPUTE:
            with self.subTest(path=path):
                first = server.get(path)
                etag = first.headers.get("etag")
                self.assertRegex(etag or "", r'^"[^"]+"$', "a strong ETag")
                self.assertIn("public", first.headers.get("cache-control", ""))
                self.assertRegex(first.headers.get("cache-control", ""), r"max-age=\d+")
                again = server.get(path)
                self.assertEqual(again.headers["etag"], etag, "deterministic")
                cached = server.get(path, headers={"If-None-Match": etag})
                self.assertEqual(cached.status, 304)
                self.assertEqual(cached.raw, b"")
                self.assertEqual(cached.headers.get("etag"), etag)
                check_response(SPEC, path, "get", cached)
                head = server.request("HEAD", path, headers={"If-None-Match": etag})
                self.assertEqual(head.status, 304)
                listed = server.get(path, headers={"If-None-Match": '"nope", ' + etag})
                self.assertEqual(listed.status, 304)
                other = server.get(path, headers={"If-None-Match": '"nope"'})
                self.assertEqual(other.status, 200)

    def test_etag_follows_the_parameters(self):
        tags = set()
        for query in ({}, {"seed": 43}, {"n": 50}, {"seed": 42, "n": 100, "scaler": "none"},
                      {"format": "csv"}):
            tags.add(server.get("/dataset", query=query).headers["etag"])
        # seed=42&n=100&scaler=none names the defaults but is another request: it may share the
        # defaults' tag or not; the other four must all differ
        self.assertGreaterEqual(len(tags), 4)
        get = server.get("/train", query={"lr": "0.2,0.8", "epochs": 10})
        post = server.post("/train", {"lr": [0.2, 0.8], "epochs": 10})
        self.assertEqual(get.headers["etag"], post.headers["etag"],
                         "the same parameters by GET and POST are the same resource state")

    def test_etag_includes_the_server_version(self):
        """The tag of the same request differs between two builds only through the version; here
        it must at least be stable across two server processes."""
        with Server() as s:
            self.assertEqual(s.get("/scale").headers["etag"], server.get("/scale").headers["etag"])

    def test_errors_are_not_cached(self):
        resp = server.get("/dataset", query={"n": 1})
        self.assertEqual(resp.headers.get("cache-control"), "no-store")
        self.assertNotIn("etag", resp.headers)


class Head(unittest.TestCase):
    def test_head_is_get_without_body(self):
        for path in ["/", "/health", "/ready", "/metrics", "/openapi.json", "/openapi.yaml",
                     "/docs", "/docs/swagger-ui.css"] + COMPUTE:
            with self.subTest(path=path):
                get = server.get(path)
                head = server.request("HEAD", path)
                self.assertEqual(head.status, get.status)
                self.assertEqual(head.raw, b"")
                for h in ("content-type", "etag", "cache-control", "vary",
                          "access-control-allow-origin"):
                    self.assertEqual(head.headers.get(h), get.headers.get(h), h)
                if path != "/metrics":  # the metrics change between the two requests
                    self.assertEqual(int(head.headers["content-length"]), len(get.raw))


class Compression(unittest.TestCase):
    def test_gzip_when_large(self):
        plain = server.get("/surface")
        zipped = server.get("/surface", headers={"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(zipped.headers.get("content-encoding"), "gzip")
        self.assertIn("accept-encoding", header_list(zipped.headers.get("vary")))
        self.assertIn("accept-encoding", header_list(plain.headers.get("vary")))
        self.assertNotIn("content-encoding", plain.headers)
        self.assertLess(len(zipped.raw), len(plain.raw) // 2)
        self.assertEqual(gzip.decompress(zipped.raw), plain.raw)
        self.assertNotEqual(zipped.headers["etag"], plain.headers["etag"],
                            "a strong ETag differs between content codings")
        again = server.get("/surface", headers={"Accept-Encoding": "gzip",
                                                "If-None-Match": zipped.headers["etag"]})
        self.assertEqual(again.status, 304)

    def test_not_when_small_or_refused(self):
        small = server.get("/health", headers={"Accept-Encoding": "gzip"})
        self.assertNotIn("content-encoding", small.headers)
        for ae in ("identity", "gzip;q=0", "deflate, br", "*;q=0", "gzip;q=0, *"):
            with self.subTest(accept_encoding=ae):
                resp = server.get("/surface", headers={"Accept-Encoding": ae})
                self.assertNotIn("content-encoding", resp.headers)
        for ae in ("*", "GZIP", "br;q=1.0, gzip;q=0.5", "x-gzip"):
            with self.subTest(accept_encoding=ae):
                resp = server.get("/surface", headers={"Accept-Encoding": ae})
                self.assertEqual(resp.headers.get("content-encoding"), "gzip")

    def test_cached_answers_keep_their_encoding(self):
        """A repeated request is answered from the response cache: gzip clients get the stored
        gzip body, identity clients the identity one, each with its own ETag."""
        for _ in range(2):
            plain = server.get("/dataset", query={"n": 60})
            zipped = server.get("/dataset", query={"n": 60}, headers={"Accept-Encoding": "gzip"})
            self.assertNotIn("content-encoding", plain.headers)
            self.assertEqual(zipped.headers.get("content-encoding"), "gzip")
            self.assertEqual(gzip.decompress(zipped.raw), plain.raw)
            self.assertEqual(zipped.headers["etag"], plain.headers["etag"][:-1] + '-gz"')

    def test_head_gzip_length(self):
        get = server.get("/train", headers={"Accept-Encoding": "gzip"})
        head = server.request("HEAD", "/train", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(head.headers.get("content-encoding"), "gzip")
        self.assertEqual(int(head.headers["content-length"]), len(get.raw))


class Csv(unittest.TestCase):
    def rows(self, resp):
        self.assertEqual(resp.status, 200, resp.body[:300])
        self.assertEqual(resp.media_type, "text/csv")
        return list(csv.DictReader(io.StringIO(resp.body.decode("utf-8"))))

    def test_dataset_csv_matches_json(self):
        js = server.get("/dataset", query={"scaler": "standard"}).json
        for how in ({"query": {"scaler": "standard", "format": "csv"}},
                    {"query": {"scaler": "standard"}, "headers": {"Accept": "text/csv"}}):
            with self.subTest(how=how):
                resp = server.get("/dataset", **how)
                check_response(SPEC, "/dataset", "get", resp)
                rows = self.rows(resp)
                self.assertEqual(list(rows[0]), ["split", "idx", "x", "y", "x_raw"])
                want = []
                for split in ("train", "val"):
                    s = js[split]
                    want += [(split, i, x, y, xr) for i, x, y, xr in
                             zip(s["idx"], s["x"], s["y"], s["x_raw"])]
                got = [(r["split"], int(r["idx"]), float(r["x"]), float(r["y"]),
                        float(r["x_raw"])) for r in rows]
                self.assertEqual(got, want, "CSV numbers are the JSON numbers, exactly")
        post = server.post("/dataset", {"format": "csv", "n": 10})
        self.assertEqual(list(self.rows(post)[0]), ["split", "idx", "x", "y"])
        self.assertEqual(len(self.rows(post)), 10)

    def test_train_history_csv(self):
        query = {"lr": "0.2,1.1", "epochs": 20, "history": 5}
        js = server.get("/train", query=query).json
        rows = self.rows(server.get("/train", query=dict(query, format="csv")))
        self.assertEqual(list(rows[0]), ["lr", "epoch", "b", "w", "train_loss", "val_loss"])
        want = []
        for run in js["runs"]:
            h = run["history"]
            want += [(run["lr"], e, b, w, tl, vl) for e, b, w, tl, vl in
                     zip(h["epoch"], h["b"], h["w"], h["train_loss"], h["val_loss"])]
        num = lambda s: float(s) if s != "" else None
        got = [(float(r["lr"]), int(r["epoch"]), num(r["b"]), num(r["w"]), num(r["train_loss"]),
                num(r["val_loss"])) for r in rows]
        self.assertEqual(got, want)

    def test_json_stays_the_default(self):
        for accept in (None, "*/*", "application/json", "application/json, text/csv;q=0.5"):
            with self.subTest(accept=accept):
                resp = server.get("/dataset", headers={"Accept": accept} if accept else {})
                self.assertEqual(resp.media_type, "application/json")
                self.assertIn("accept", header_list(resp.headers.get("vary")))

    def test_format_is_checked(self):
        resp = server.get("/dataset", query={"format": "xml"})
        self.assertEqual(resp.status, 400)
        self.assertEqual(resp.json["param"], "format")
        resp = server.get("/surface", query={"format": "csv"})
        self.assertEqual(resp.status, 400, "only /dataset and /train have a CSV form")
        self.assertEqual(resp.json["param"], "format")


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from the Prometheus text format, checking its syntax."""
    out = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        assert m, "not a sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out, types


class Metrics(unittest.TestCase):
    def scrape(self, s=None):
        resp = (s or server).get("/metrics")
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.media_type, "text/plain")
        self.assertIn("version=0.0.4", resp.headers["content-type"])
        return parse_metrics(resp.body.decode())

    def test_counters_histogram_gauge_bytes(self):
        with Server() as s:
            for _ in range(3):
                s.get("/train", query={"epochs": 10})
            s.get("/dataset", query={"n": 1})
            s.get("/nowhere")
            samples, types = self.scrape(s)
        self.assertEqual(types["gdlab_http_requests_total"], "counter")
        self.assertEqual(types["gdlab_http_request_duration_seconds"], "histogram")
        self.assertEqual(types["gdlab_http_requests_in_flight"], "gauge")
        self.assertEqual(types["gdlab_http_response_bytes_total"], "counter")
        req = lambda route, status: samples.get(("gdlab_http_requests_total", frozenset(
            {("route", route), ("status", status)})), 0)
        self.assertEqual(req("/train", "200"), 3)
        self.assertEqual(req("/dataset", "400"), 1)
        self.assertEqual(req("other", "404"), 1)
        self.assertGreaterEqual(samples[("gdlab_http_requests_in_flight", frozenset())], 1)
        self.assertEqual(types["gdlab_long_requests"], "gauge")
        self.assertEqual(samples[("gdlab_long_requests", frozenset())], 0, "none computing now")
        # the contract's servers run --threads 2 with the default --queue 64
        self.assertEqual(samples[("gdlab_long_requests_capacity", frozenset())], 66)
        buckets = sorted((float(dict(k[1])["le"]), v) for k, v in samples.items()
                         if k[0] == "gdlab_http_request_duration_seconds_bucket"
                         and dict(k[1])["route"] == "/train")
        counts = [v for _, v in buckets]
        self.assertEqual(counts, sorted(counts), "cumulative buckets")
        self.assertEqual(buckets[-1], (float("inf"), 3))
        count = samples[("gdlab_http_request_duration_seconds_count",
                         frozenset({("route", "/train")}))]
        total = samples[("gdlab_http_request_duration_seconds_sum",
                         frozenset({("route", "/train")}))]
        self.assertEqual(count, 3)
        self.assertGreater(total, 0)
        self.assertLess(total, 60)
        sent = samples[("gdlab_http_response_bytes_total", frozenset({("route", "/train")}))]
        self.assertGreater(sent, 3 * 1000)

    def test_not_cached(self):
        resp = server.get("/metrics")
        self.assertEqual(resp.headers.get("cache-control"), "no-store")
        self.assertNotIn("etag", resp.headers)


class Readiness(unittest.TestCase):
    def test_ready_then_shutting_down(self):
        with Server("--shutdown-grace", "30") as s:
            resp = s.get("/ready")
            self.assertEqual(resp.status, 200)
            check_response(SPEC, "/ready", "get", resp)
            with Draining(s) as d:
                resp = s.get("/ready")
                self.assertEqual(resp.status, 503)
                check_response(SPEC, "/ready", "get", resp)
                self.assertEqual(resp.json["status"], "shutting_down")
                self.assertEqual(resp.headers.get("connection"), "close",
                                 "a draining server sends kept-alive clients away")
                health = s.get("/health")
                self.assertEqual(health.status, 200, "alive while draining")
                self.assertEqual(health.headers.get("connection"), "close")
                self.assertEqual(d.finish(), b"HTTP/1.1 200 OK", "the request in flight finished")
            self.assertEqual(s.proc.wait(60), 0)


class Document(unittest.TestCase):
    def test_served_documents_are_the_file(self):
        with open(OPENAPI, "rb") as f:
            raw = f.read()
        y = server.get("/openapi.yaml")
        self.assertEqual(y.status, 200)
        self.assertEqual(y.media_type, "application/yaml")
        self.assertEqual(y.body, raw)
        j = server.get("/openapi.json")
        self.assertEqual(j.media_type, "application/json")
        self.assertEqual(j.json, yaml.safe_load(raw))
        self.assertEqual(server.get("/openapi.json", headers={
            "If-None-Match": j.headers["etag"]}).status, 304)

    def test_docs_page_stays_on_this_server(self):
        page = server.get("/docs")
        self.assertEqual(page.status, 200)
        self.assertEqual(page.media_type, "text/html")
        html = page.body.decode()
        refs = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r'url: *"([^"]+)"', html)
        self.assertTrue(refs)
        for ref in refs:
            with self.subTest(ref=ref):
                self.assertNotRegex(ref, r"^(https?:)?//", "a request to another host")
                target = "/" + ref.lstrip("/")
                resp = server.get(target)
                self.assertEqual(resp.status, 200, target)
        self.assertIn("openapi.json", html)
        self.assertIn("validatorUrl: null", html, "no online validator badge")
        types = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
                 "favicon-32x32.png": "image/png", "oauth2-redirect.html": "text/html"}
        for name, media in types.items():
            with self.subTest(asset=name):
                resp = server.get("/docs/" + name)
                self.assertEqual(resp.media_type, media)
                self.assertIn("etag", resp.headers)

    def test_docs_serves_only_its_assets(self):
        for path in ("/docs/package.json", "/docs/README.md", "/docs/swagger-initializer.js",
                     "/docs/index.html", "/docs/../openapi/openapi.yaml", "/docs/.hidden",
                     "/docs/swagger-ui-bundle.js.map"):
            with self.subTest(path=path):
                self.assertEqual(server.get(path).status, 404)


if __name__ == "__main__":
    unittest.main()
