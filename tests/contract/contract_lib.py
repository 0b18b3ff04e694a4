"""Shared pieces of the contract tests: the OpenAPI document, a real gdlab server, and HTTP.

The binary comes from $GDLAB_BINARY and the document from $GDLAB_OPENAPI (both set by CTest). The
server is started on port 0 and reports the port it got on its first stderr line.
"""
import gzip
import http.client
import json
import os
import re
import signal
import socket
import sys
import time
import urllib.parse

import jsonschema
import jsonschema._validators
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from gdlab_process import GdlabProcess  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("GDLAB_BINARY", os.path.join(TOP, "build/dev/src/gdlab"))
OPENAPI = os.environ.get("GDLAB_OPENAPI", os.path.join(TOP, "openapi/openapi.yaml"))
METHODS = ("get", "head", "post", "options", "put", "delete", "patch", "trace")


# ---- the document ---------------------------------------------------------------------------

def _scalar_ok(v, types, minimum):
    if isinstance(v, bool):
        return "boolean" in types
    if isinstance(v, str):
        return "string" in types
    if isinstance(v, int):
        ok = "integer" in types or "number" in types
    elif isinstance(v, float):
        ok = "number" in types or ("integer" in types and v.is_integer())
    else:
        return v is None and "null" in types
    return ok and (minimum is None or v >= minimum)


def _fast_items(validator, items, instance, schema):
    """items for arrays of plain numbers (the surfaces, curves and histories), checked in one
    loop; anything else goes to jsonschema's own rule."""
    simple = isinstance(items, dict) and set(items) <= {"type", "description", "minimum"}
    if simple and validator.is_type(instance, "array"):
        types = items.get("type", [])
        types = [types] if isinstance(types, str) else types
        minimum = items.get("minimum")
        for i, v in enumerate(instance):
            if not _scalar_ok(v, types, minimum):
                yield jsonschema.ValidationError("item %d, %r, is not %s (minimum %r)" % (
                    i, v, "/".join(types), minimum))
                return
        return
    yield from jsonschema._validators.items(validator, items, instance, schema)


FastValidator = jsonschema.validators.extend(jsonschema.Draft202012Validator,
                                             {"items": _fast_items})


class Spec:
    """The OpenAPI document, with $ref resolution and JSON Schema validators."""

    def __init__(self, path=OPENAPI):
        with open(path, encoding="utf-8") as f:
            self.doc = yaml.safe_load(f)
        self.resolver = jsonschema.RefResolver("", self.doc)
        self._validators = {}

    def resolve(self, obj):
        """Follow $ref until a plain object."""
        while isinstance(obj, dict) and "$ref" in obj:
            obj = self.resolver.resolve(obj["$ref"])[1]
        return obj

    def inline(self, schema):
        """The schema with every $ref replaced by its target (the document has no cycles), so
        that validating a long array does not resolve a reference per element."""
        if isinstance(schema, dict):
            if "$ref" in schema:
                rest = {k: v for k, v in schema.items() if k != "$ref"}
                target = self.inline(self.resolver.resolve(schema["$ref"])[1])
                return {"allOf": [target, self.inline(rest)]} if rest else target
            return {k: self.inline(v) for k, v in schema.items()}
        if isinstance(schema, list):
            return [self.inline(v) for v in schema]
        return schema

    def validator(self, schema):
        key = id(schema)
        cached = self._validators.get(key)
        if cached is None or cached[0] is not schema:
            cached = (schema, FastValidator(self.inline(schema)))
            self._validators[key] = cached
        return cached[1]

    def validate(self, instance, schema):
        """Raise AssertionError naming every way instance breaks schema."""
        errors = sorted(self.validator(schema).iter_errors(instance), key=lambda e: list(e.path))
        if errors:
            lines = ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(root)", e.message[:300])
                     for e in errors[:10]]
            raise AssertionError("response does not match its schema:\n  " + "\n  ".join(lines))

    def is_valid(self, instance, schema):
        return self.validator(schema).is_valid(instance)

    def operations(self):
        """(path, method, operation) for every documented operation."""
        for path, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    yield path, method, item[method]

    def path_methods(self, path):
        return {m.upper() for m in METHODS if m in self.doc["paths"][path]}

    def parameters(self, path, method):
        """name -> resolved parameter object (path-level and operation-level)."""
        item = self.doc["paths"][path]
        out = {}
        for p in item.get("parameters", []) + item[method].get("parameters", []):
            p = self.resolve(p)
            out[p["name"]] = p
        return out

    def query_parameters(self, path, method):
        return {n: p for n, p in self.parameters(path, method).items() if p["in"] == "query"}

    def body_schema(self, path):
        op = self.doc["paths"][path]["post"]
        return self.resolve(op["requestBody"])["content"]["application/json"]["schema"]

    def body_properties(self, path):
        """name -> schema of every property a POST body may have (through allOf)."""
        props = {}

        def walk(schema):
            schema = self.resolve(schema)
            for sub in schema.get("allOf", []):
                walk(sub)
            props.update(schema.get("properties", {}))

        walk(self.body_schema(path))
        return props

    def response(self, path, method, status):
        """The resolved response object for a status, or None when undocumented."""
        responses = self.doc["paths"][path][method]["responses"]
        r = responses.get(str(status))
        return self.resolve(r) if r is not None else None

    def component_response(self, name):
        return self.resolve(self.doc["components"]["responses"][name])

    def template_match(self, path):
        """The documented path (maybe templated) that a concrete request path falls under."""
        if path in self.doc["paths"]:
            return path
        for doc_path in self.doc["paths"]:
            if "{" not in doc_path:
                continue
            rx = "^" + re.sub(r"\\\{[^}]+\\\}", r"(.+)", re.escape(doc_path)) + "$"
            if re.match(rx, path):
                return doc_path
        return None


# ---- HTTP --------------------------------------------------------------------------------------

class Response:
    """One exchange: status, headers (lower-case names, repeated ones joined with ', '), body
    (decoded from gzip when the server compressed it) and, for JSON types, the parsed document."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.body = gzip.decompress(raw) if headers.get("content-encoding") == "gzip" else raw
        self.media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        self._json = None

    @property
    def content_type(self):
        return self.headers.get("content-type", "")

    @property
    def json(self):
        if self._json is None:
            self._json = json.loads(self.body)
        return self._json


def encode_query(params):
    """A query string from a dict (lists comma-separated) or a ready string."""
    if params is None:
        return ""
    if isinstance(params, str):
        return params
    parts = []
    for k, v in params.items():
        if isinstance(v, (list, tuple)):
            v = ",".join(query_value(x) for x in v)
        else:
            v = query_value(v)
        parts.append(urllib.parse.quote(k, safe="") + "=" + urllib.parse.quote(v, safe=",.-+eE"))
    return "&".join(parts)


def query_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


class Server(GdlabProcess):
    """A gdlab process; a context manager. extra_args go on its command line."""

    def __init__(self, *extra_args, env=None, preexec_fn=None):
        if not os.path.exists(BINARY):
            raise RuntimeError("no gdlab binary at %s (set GDLAB_BINARY)" % BINARY)
        super().__init__(BINARY, extra_args, env=env, preexec_fn=preexec_fn,
                         log_prefix="gdlab-contract-")
        self.conn = None
        self.spares = []  # kept-alive connections for a draining server (Draining)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.finish(exc[0])

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.conn:
            self.conn.close()
            self.conn = None
        while self.spares:
            self.spares.pop().close()
        return super().stop(sig, timeout)

    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    def request(self, method, path, query=None, body=None, headers=None, fresh=False,
                timeout=120):
        """Send one request on a kept-alive connection (a new one when fresh or after the server
        closed the last); a dropped connection is an error the caller sees."""
        qs = encode_query(query)
        target = path + ("?" + qs if qs else "")
        hdrs = dict(headers or {})
        if isinstance(body, (dict, list)) or body is not None and not isinstance(body,
                                                                                (bytes, str)):
            body = json.dumps(body)
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if self.conn is None and not fresh and self.spares:
            self.conn = self.spares.pop()
        if fresh or self.conn is None:
            if self.conn:
                self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn = self.conn
        conn.request(method, target, body=body, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        headers_out = {}
        for k, v in resp.getheaders():
            k = k.lower()
            headers_out[k] = headers_out[k] + ", " + v if k in headers_out else v
        if resp.will_close:
            conn.close()
            self.conn = None
        return Response(resp.status, headers_out, raw)

    def get(self, path, query=None, **kw):
        return self.request("GET", path, query=query, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)


class Draining:
    """A server that got SIGTERM while a request (its body half sent) is in flight: it takes no new
    connections but still answers on the ones it has, one request each (answers while draining say
    Connection: close), so the server is given kept-alive spares opened before the signal.
    finish() completes the request in flight and returns its status line; the server then exits."""

    SPARES = 8

    def __init__(self, server):
        self.server = server
        self.body = b'{"n": 50}'

    def __enter__(self):
        s = self.server
        for _ in range(self.SPARES):
            s.get("/health", fresh=True)
            s.spares.append(s.conn)
            s.conn = None
        self.slow = socket.create_connection(("127.0.0.1", s.port))
        self.slow.sendall(b"POST /dataset HTTP/1.1\r\nHost: t\r\n"
                          b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                          % len(self.body) + self.body[:4])
        time.sleep(0.3)
        s.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and s.get("/ready").status != 503:
            time.sleep(0.05)
        return self

    def finish(self):
        self.slow.sendall(self.body[4:])
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = self.slow.recv(65536)
            if not chunk:
                break
            answer += chunk
        self.slow.close()
        return answer.split(b"\r\n", 1)[0]

    def __exit__(self, *exc):
        if self.slow.fileno() >= 0:
            self.slow.close()
