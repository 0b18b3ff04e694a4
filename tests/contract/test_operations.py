"""Every documented operation, exercised against the real server, every answer held to the
document; and the converse: nothing served that the document does not describe.

Each (path, method, status) that the document lists must be seen at least once, so a documented
response the tests never provoke fails as surely as an undocumented one the server gives.
"""
import os
import resource
import unittest

from checks import check_response, documented_media
from contract_lib import Draining, Server, Spec

SPEC = Spec()
COMPUTE = ["/dataset", "/surface", "/cross-section", "/train", "/scale", "/stability",
           "/lr-finder"]
MAX_BODY = 65536
# Cheap parameter sets for each computing endpoint, beside the defaults ({}).
QUERIES = {
    "/dataset": [{}, {"n": 30, "scaler": "standard"}, {"scaler": "minmax", "x_multiplier": 10},
                 {"seed": 7, "n": 12, "train_fraction": 0.5, "noise": 0}],
    "/surface": [{}, {"b_steps": 11, "w_steps": 7, "split": "val"},
                 {"b_min": -1, "b_max": 3, "w_min": 0, "w_max": 4, "b_steps": 5, "w_steps": 5}],
    "/cross-section": [{}, {"b": 1, "w": 2, "snap": False}, {"delta": -0.3, "split": "val"}],
    "/train": [{"lr": [0.2, 0.8, 1.1], "epochs": 100, "history": 11},
               {"lr": 1.5, "epochs": 5000, "history": 3}, {"epochs": 1}, {"history": 0},
               {"tol": 1e-3, "epochs": 100000, "history": 5},
               # beyond plain gd: every optimizer, hyperparameter, mini-batches and schedule
               {"optimizer": ["momentum", "nesterov"], "lr": [0.5, 1.4], "momentum": 0.5,
                "epochs": 50, "history": 5},
               {"optimizer": ["adagrad", "rmsprop", "adam", "adamw"], "alpha": 0.9, "beta1": 0.8,
                "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.001, "epochs": 30, "history": 4},
               {"batch_size": 7, "shuffle": False, "shuffle_seed": 3, "history_unit": "step",
                "schedule": "step", "step_size": 2, "gamma": 0.5, "epochs": 6, "history": 9},
               {"optimizer": "gd", "schedule": "cosine", "t_max": 5, "eta_min": 0.01, "epochs": 10,
                "history": 3},
               {"optimizer": "adam", "batch_size": 16, "schedule": "onecycle", "epochs": 4},
               {"schedule": "exponential", "gamma": 0.9, "epochs": 20, "history": 2}],
    "/scale": [{}, {"x_multiplier": 10}, {"scaler": "minmax"}, {"scaler": "none"}],
    "/stability": [{"lr_steps": 5}, {"optimizer": "gd", "lr_min": 0.01, "lr_max": 2,
                                     "lr_spacing": "linear", "lr_steps": 9},
                   {"optimizer": "momentum", "lr_steps": 7, "momentum_steps": 4},
                   {"optimizer": "nesterov", "momentum_min": 0.2, "momentum_max": 0.8,
                    "momentum_steps": 3, "lr_steps": 6, "x_multiplier": 10, "scaler": "standard"},
                   {"optimizer": "momentum", "momentum_min": 0.5, "momentum_steps": 1,
                    "lr_steps": 3}],
    "/lr-finder": [{}, {"num_iter": 10}, {"optimizer": "momentum", "momentum": 0.5,
                                          "step_mode": "linear", "end_lr": 2, "num_iter": 30},
                   {"optimizer": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6,
                    "weight_decay": 0.001, "num_iter": 20},
                   {"optimizer": "rmsprop", "alpha": 0.9, "batch_size": 8, "shuffle": False,
                    "shuffle_seed": 3, "smooth_f": 0, "diverge_th": 2, "num_iter": 40},
                   {"b0": 1, "w0": 2, "start_lr": 0.01, "end_lr": 1, "x_multiplier": 10}],
}
# Paths a server might be expected to have; any that it serves must be documented.
PROBES = ["/index.html", "/api", "/v1", "/v1/dataset", "/docs/", "/doc", "/swagger",
          "/swagger.json", "/openapi", "/metrics/", "/health/", "/ready/", "/status", "/version",
          "/favicon.ico", "/robots.txt", "/static", "/dataset/", "/train/1", "/surface.json",
          "/scale/", "/cross_section", "/crosssection", "/stats", "/debug", "/admin", "/env",
          "/config", "/server-status", "/.git/config", "/web/index.html", "/livez", "/readyz"]

server = None
seen = set()


def setUpModule():
    global server
    server = Server("--max-body", str(MAX_BODY)).__enter__()


def tearDownModule():
    server.__exit__(None, None, None)


def concrete(path):
    """A request path for a documented (maybe templated) one: the first enum value or a file
    that exists."""
    if path == "/docs/{asset}":
        return "/docs/" + SPEC.resolve(SPEC.doc["paths"][path]["parameters"][0])["schema"]["enum"][0]
    if path == "/static/{file}":
        return "/static/index.html"
    if path == "/problems/{type}":
        return "/problems/out-of-range"
    assert "{" not in path, "no example value for " + path
    return path


class Operations(unittest.TestCase):
    """The documented operations, with the answers the document promises."""

    def send(self, method, path, doc_path=None, **kw):
        resp = server.request(method.upper(), path, **kw)
        check_response(SPEC, doc_path or path, method, resp, seen)
        return resp

    def test_compute_get_head_post(self):
        for path in COMPUTE:
            post_props = SPEC.body_properties(path)
            for query in QUERIES[path]:
                with self.subTest(path=path, query=query):
                    get = self.send("get", path, query=query)
                    self.assertEqual(get.status, 200, get.body[:300])
                    for k, v in query.items():
                        want = v if not (k == "lr" and not isinstance(v, list)) else [v]
                        self.assertEqual(get.json["params"][k], want, k)
                    head = self.send("head", path, query=query)
                    self.assertEqual(head.status, 200)
                    self.assertEqual(head.media_type, get.media_type)
                    self.assertEqual(int(head.headers["content-length"]), len(get.raw))
                    self.assertTrue(set(query) <= set(post_props), query)
                    SPEC.validate(query, SPEC.body_schema(path))
                    post = self.send("post", path, body=query)
                    self.assertEqual(post.status, 200, post.body[:300])
                    self.assertEqual(post.json, get.json, "POST and GET disagree")

    def test_documented_request_examples(self):
        for path in COMPUTE:
            body = SPEC.resolve(SPEC.doc["paths"][path]["post"]["requestBody"])
            media = body["content"]["application/json"]
            examples = [e["value"] for e in media.get("examples", {}).values()]
            if "example" in media:
                examples.append(media["example"])
            self.assertTrue(examples, path + " POST has no example")
            for example in examples:
                with self.subTest(path=path, example=example):
                    SPEC.validate(example, media["schema"])
                    self.assertEqual(self.send("post", path, body=example).status, 200)

    def test_documented_response_examples(self):
        """A response example that names its request (x-query: the parameters, sent as a query or
        a JSON body; x-path for a templated path; x-operations to limit a shared one) is exactly
        what the server answers."""
        count = 0
        for path, method, op in SPEC.operations():
            for status, r in op["responses"].items():
                for key, media in (SPEC.resolve(r).get("content") or {}).items():
                    for name, ex in (media.get("examples") or {}).items():
                        ex = SPEC.resolve(ex)
                        if "x-query" not in ex and "x-path" not in ex:
                            continue
                        if op["operationId"] not in ex.get("x-operations", [op["operationId"]]):
                            continue
                        count += 1
                        with self.subTest(path=path, method=method, example=name):
                            params = ex.get("x-query", {})
                            kw = {"body": params} if method == "post" else {"query": params}
                            resp = self.send(method, ex.get("x-path", path), doc_path=path,
                                             headers={"Accept": key}, **kw)
                            self.assertEqual(resp.status, int(status))
                            if key.endswith("json"):
                                self.assertEqual(resp.json, ex["value"])
                            else:
                                self.assertEqual(resp.body.decode(), ex["value"])
        self.assertGreater(count, 0, "no response example names its request")

    def test_service_routes(self):
        for path, method, op in SPEC.operations():
            if path in COMPUTE or method in ("post", "options"):
                continue
            with self.subTest(path=path, method=method):
                target = concrete(path)
                resp = self.send(method, target, doc_path=path)
                self.assertEqual(resp.status, 200, resp.body[:300])

    def test_index_for_a_browser(self):
        resp = self.send("get", "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        self.assertEqual(resp.media_type, "text/html")

    def test_docs_assets(self):
        param = SPEC.resolve(SPEC.doc["paths"]["/docs/{asset}"]["parameters"][0])
        for asset in param["schema"]["enum"]:
            with self.subTest(asset=asset):
                resp = self.send("get", "/docs/" + asset, doc_path="/docs/{asset}")
                self.assertEqual(resp.status, 200)
        resp = self.send("get", "/docs/no-such-file.js", doc_path="/docs/{asset}")
        self.assertEqual(resp.status, 404)
        resp = self.send("head", "/docs/no-such-file.js", doc_path="/docs/{asset}")
        self.assertEqual(resp.status, 404)

    def test_static_missing(self):
        for method in ("get", "head"):
            resp = self.send(method, "/static/no-such-file.js", doc_path="/static/{file}")
            self.assertEqual(resp.status, 404)
            resp = self.send(method, "/problems/no-such-type", doc_path="/problems/{type}")
            self.assertEqual(resp.status, 404)

    def test_problem_types(self):
        """Every problem type the server answers with is documented at its type URI."""
        param = SPEC.resolve(SPEC.doc["paths"]["/problems/{type}"]["parameters"][0])
        problem = SPEC.doc["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
        self.assertEqual(["/problems/" + t for t in param["schema"]["enum"]], problem)
        for slug in param["schema"]["enum"]:
            with self.subTest(type=slug):
                resp = self.send("get", "/problems/" + slug, doc_path="/problems/{type}")
                self.assertEqual(resp.status, 200)

    def test_options(self):
        for path in SPEC.doc["paths"]:
            with self.subTest(path=path):
                resp = self.send("options", concrete(path), doc_path=path,
                                 headers={"Origin": "http://example.test",
                                          "Access-Control-Request-Method": "GET"})
                self.assertEqual(resp.status, 204)
                allow = {m.strip() for m in resp.headers.get("allow", "").split(",")}
                self.assertEqual(allow, SPEC.path_methods(path),
                                 "the server's Allow and the document's methods differ")

    def test_bad_requests(self):
        for path in COMPUTE:
            for method in ("get", "head"):
                with self.subTest(path=path, method=method):
                    resp = self.send(method, path, query={"no_such_parameter": 1})
                    self.assertEqual(resp.status, 400)
                    if method == "get":
                        self.assertEqual(resp.json["param"], "no_such_parameter")
            with self.subTest(path=path, method="post"):
                for body, slug in ((b"{", "malformed-json"), (b"[1, 2]", "body-not-object"),
                                   (b'{"seed": "42"}', "invalid-parameter")):
                    resp = self.send("post", path, body=body,
                                     headers={"Content-Type": "application/json"})
                    self.assertEqual(resp.status, 400)
                    self.assertEqual(resp.json["type"], "/problems/" + slug)

    def test_post_errors(self):
        for path in COMPUTE:
            with self.subTest(path=path, status=415):
                resp = self.send("post", path, body=b"seed=42",
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})
                self.assertEqual(resp.status, 415)
            with self.subTest(path=path, status=413):
                big = b'{"x": [' + b"0.5, " * (MAX_BODY // 5) + b'0.5]}'
                resp = self.send("post", path, body=big,
                                 headers={"Content-Type": "application/json"}, fresh=True)
                self.assertEqual(resp.status, 413)
                self.assertIn(str(MAX_BODY), resp.json["detail"])

    def test_method_not_allowed(self):
        doc = SPEC.component_response("MethodNotAllowed")
        schema = doc["content"]["application/problem+json"]["schema"]
        for path in SPEC.doc["paths"]:
            for method in ("PUT", "DELETE", "PATCH", "POST"):
                if method in SPEC.path_methods(path):
                    continue
                with self.subTest(path=path, method=method):
                    resp = server.request(method, concrete(path), body=b"{}",
                                          headers={"Content-Type": "application/json"})
                    self.assertEqual(resp.status, 405)
                    self.assertEqual(resp.media_type, "application/problem+json")
                    SPEC.validate(resp.json, schema)
                    allow = {m.strip() for m in resp.headers["allow"].split(",")}
                    self.assertEqual(allow, SPEC.path_methods(path))

    def test_not_modified(self):
        """Every documented 304: the ETag of a 200 sent back in If-None-Match."""
        for path, method, op in SPEC.operations():
            if "304" not in op["responses"]:
                continue
            with self.subTest(path=path, method=method):
                target = concrete(path)
                etag = server.get(target).headers.get("etag")
                self.assertIsNotNone(etag, "a 304 is documented, so the 200 needs an ETag")
                resp = self.send(method, target, doc_path=path, headers={"If-None-Match": etag})
                self.assertEqual(resp.status, 304)

    def test_ready_while_draining(self):
        with Server() as s, Draining(s) as d:
            for method in ("get", "head"):
                resp = s.request(method.upper(), "/ready")
                self.assertEqual(resp.status, 503)
                check_response(SPEC, "/ready", method, resp, seen)
            d.finish()

class OutOfMemory(unittest.TestCase):
    """503: a server whose address space is capped runs out of memory on a large request and
    says so, for every computing operation, instead of crashing."""
    covered = set()

    def test_out_of_memory(self):
        if os.environ.get("GDLAB_SANITIZE", "0") not in ("", "0"):
            # AddressSanitizer reserves terabytes of address space, so no cap can apply; the
            # sanitizer build still checks every other documented response.
            documented = {(p, m, s) for p, m, op in SPEC.operations() for s in op["responses"]
                          if s == "503" and p in COMPUTE}
            self.covered.update(documented)
            self.skipTest("RLIMIT_AS cannot cap a sanitizer build")
        # The smallest cap the idle server starts under (8 MiB steps), which a million points
        # then exceed by far.
        huge = {"/dataset": {"n": 1000000}, "/surface": {"b_steps": 2000, "w_steps": 2000},
                "/cross-section": {"n": 1000000}, "/train": {"n": 1000000},
                "/scale": {"n": 1000000}, "/stability": {"n": 1000000},
                "/lr-finder": {"n": 1000000}}
        s = None
        for mb in range(40, 257, 8):
            def cap(limit=mb << 20):
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

            try:
                s = Server("--threads", "1", "--response-cache", "0",
                           env={"MALLOC_ARENA_MAX": "1"}, preexec_fn=cap).__enter__()
            except RuntimeError:
                continue
            try:
                started = s.get("/health").status == 200
            except OSError:
                started = False
            if started:
                break
            try:
                s.__exit__(None, None, None)
            except AssertionError:
                pass  # a server that could not even start under this cap
            s = None
        if s is None:
            self.fail("the server did not start under any cap up to 256 MiB")
        try:
            for path in COMPUTE:
                for method in ("get", "head", "post"):
                    with self.subTest(path=path, method=method, cap_mib=mb):
                        if method == "post":
                            resp = s.post(path, huge[path])
                        else:
                            resp = s.request(method.upper(), path, query=huge[path])
                        self.assertEqual(resp.status, 503, resp.body[:200])
                        check_response(SPEC, path, method, resp, self.covered)
                        self.assertEqual(s.get("/health").status, 200)
                        self.assertEqual(s.get("/dataset", query={"n": 20}).status, 200)
        finally:
            s.__exit__(None, None, None)


class Converse(unittest.TestCase):
    """Nothing the server serves is missing from the document, and nothing documented is missing
    from the server."""

    def test_index_paths_are_documented(self):
        index = server.get("/").json
        for ep in index["endpoints"]:
            path = ep["path"]
            with self.subTest(path=path):
                if path.endswith("/") and path != "/":
                    matches = [p for p in SPEC.doc["paths"] if p.startswith(path + "{")]
                    self.assertTrue(matches, "prefix route %s is not documented" % path)
                    continue
                self.assertIn(path, SPEC.doc["paths"], "served but not documented")
                documented = SPEC.path_methods(path)
                for m in ep["methods"]:
                    self.assertIn(m, documented)

    def test_documented_paths_are_served(self):
        served = {ep["path"] for ep in server.get("/").json["endpoints"]}
        for path in SPEC.doc["paths"]:
            with self.subTest(path=path):
                resp = server.get(concrete(path))
                self.assertNotEqual(resp.status, 404, "documented but not served")
                self.assertNotIn(resp.status, (405,), "documented GET not allowed")
                prefix = path.split("{")[0]
                self.assertTrue(path in served or prefix in served,
                                "%s is served but missing from the index at /" % path)

    def test_probed_paths(self):
        for path in PROBES:
            with self.subTest(path=path):
                resp = server.get(path)
                if resp.status == 404:
                    continue
                doc_path = SPEC.template_match(path)
                self.assertIsNotNone(doc_path, "%s answers %d but is not documented" % (
                    path, resp.status))
                check_response(SPEC, doc_path, "get", resp)

    def test_parameters_match(self):
        index = {ep["path"]: ep for ep in server.get("/").json["endpoints"]}
        for path in COMPUTE:
            with self.subTest(path=path):
                query = set(SPEC.query_parameters(path, "get"))
                body = set(SPEC.body_properties(path))
                self.assertEqual(set(SPEC.query_parameters(path, "head")), query)
                self.assertEqual(body - query, {"x", "y"}, "only inline data is POST-only")
                self.assertEqual(set(index[path]["params"]), body)
                for name in query:
                    resp = server.get(path, query={name: "\x01"})
                    self.assertNotEqual(resp.json.get("type"), "/problems/unknown-parameter",
                                        name + " is documented but unknown to the server")

    def test_echoed_params_are_documented(self):
        """Every echo names documented parameters only, and the queries above together see every
        one echoed (no single /train request echoes them all: step_size belongs to schedule=step,
        t_max to schedule=cosine)."""
        for path in COMPUTE:
            with self.subTest(path=path):
                documented = set(SPEC.body_properties(path)) - {"x", "y", "format"}
                seen_names = set()
                for query in QUERIES[path]:
                    params = server.get(path, query=query).json["params"]
                    self.assertLessEqual(set(params), documented, query)
                    seen_names |= set(params)
                self.assertEqual(seen_names, documented)


class ZzCoverage(unittest.TestCase):
    """Runs last (the loader sorts classes by name): every documented (path, method, status) was
    provoked by one of the tests above."""

    def test_every_documented_response_seen(self):
        documented = {(path, method, status) for path, method, op in SPEC.operations()
                      for status in op["responses"]}
        missing = sorted(documented - seen - OutOfMemory.covered)
        self.assertFalse(missing, "documented responses never seen: %s" % missing)


if __name__ == "__main__":
    unittest.main()
