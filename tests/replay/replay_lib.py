"""What record.py and test_replay.py share: the server as both start it, how a request of
requests.json goes on the wire, and how its answer becomes a corpus record (what is kept, what is
normalised) and is compared with another one.

A record is {"id", "status", "headers": [[name, value], ...], "body" or "body_b64"} for a request,
{"id", "response" or "response_b64", "closed"} for a raw one. Normalised away, because they differ
between two runs of the same binary on the same tree or between two clones of it:
- Date: the clock.
- Last-Modified of files under /static/, /docs/ and the page at /: the file's mtime, which a
  fresh clone or a touch changes; recorded as MTIME once checked to be an HTTP-date.
- The mtime half of those files' ETags ("<size hex>-<mtime ns hex>"): recorded as
  "<size hex>-MTIME". The other ETags (computing answers, /openapi.*, /docs) hash the content and
  are kept whole.
"""
import base64
import difflib
import http.client
import json
import os
import re
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, "tests", "common"))

from gdlab_process import GdlabProcess  # noqa: E402

REQUESTS = os.path.join(HERE, "requests.json")
CORPUS = os.path.join(HERE, "corpus.jsonl")
DEFAULT_BINARY = os.path.join(TOP, "build", "release", "src", "gdlab")

# Only what makes answers independent of the machine and the environment: no deadline (a loaded
# machine or the sanitizers must not turn an answer into a 503), this tree's web and docs roots,
# and every other flag at its default (defaults show in answers: a changed one must show here).
SERVER_ARGS = ("--deadline", "0")
RAW_WAIT_S = 5.0   # a raw request's connection is read until the server closes it, or this long
SOCKET_TIMEOUT_S = 120.0

_PAD = re.compile(r"@@(.)\*(\d+)@@")
_STATIC_ETAG = re.compile(r'^"([0-9a-f]+)-[0-9a-f]+"$')
_HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d "
                        r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                        r"\d{4} \d\d:\d\d:\d\d GMT$")
_DATE_LINE = re.compile(rb"(?im)^Date: [^\r\n]*\r?\n")


def load_requests():
    with open(REQUESTS, encoding="utf-8") as f:
        return json.load(f)["requests"]


def load_corpus():
    with open(CORPUS, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def start_server(binary):
    """gdlab on a free port; GDLAB_* variables of the caller's environment are not passed on."""
    web = os.path.join(TOP, "web")
    docs = os.path.join(TOP, "openapi", "node_modules", "swagger-ui-dist")
    proc = GdlabProcess(binary, (*SERVER_ARGS, "--web-root", web, "--docs-root", docs),
                        log_prefix="gdlab-replay-")
    proc.env = {k: v for k, v in proc.env.items() if not k.startswith("GDLAB_")}
    proc.start()
    return proc


def expand(text):
    """@@c*N@@ stands for N copies of c (a long URL or header without a long data file)."""
    return _PAD.sub(lambda m: m.group(1) * int(m.group(2)), text)


def request_bytes(spec, etags):
    """The exact bytes of a non-raw request; etags maps an earlier request's id to its live ETag."""
    headers = [("Host", "localhost")]
    headers += [(k, expand(v)) for k, v in spec.get("headers", {}).items()]
    inm = spec.get("inm_from_list") or ([spec["inm_from"]] if "inm_from" in spec else [])
    if inm:
        missing = [i for i in inm if not etags.get(i)]
        if missing:
            raise ValueError("%s: no ETag from %s" % (spec["id"], ", ".join(missing)))
        headers.append(("If-None-Match", ", ".join(etags[i] for i in inm)))
    body = None
    if "body" in spec:
        body = json.dumps(spec["body"], separators=(",", ":"), ensure_ascii=False).encode()
    elif "body_text" in spec:
        body = spec["body_text"].encode()
    if body is not None:
        named = any(k.lower() == "content-type" for k, _ in headers)
        if not named and not spec.get("no_content_type"):
            headers.append(("Content-Type", "application/json"))
        headers.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.1\r\n" % (spec["method"], expand(spec["path"]))
    head += "".join("%s: %s\r\n" % kv for kv in headers) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def _body_fields(data, prefix):
    try:
        return {prefix: data.decode("utf-8")}
    except UnicodeDecodeError:
        return {prefix + "_b64": base64.b64encode(data).decode("ascii")}


def _normalise_header(path, name, value):
    lower = name.lower()
    file_like = path == "/" or path.startswith("/static/") or path.startswith("/docs/")
    if lower == "last-modified" and file_like and _HTTP_DATE.match(value):
        return "MTIME"
    if lower == "etag" and file_like:
        m = _STATIC_ETAG.match(value)
        if m:
            return '"%s-MTIME"' % m.group(1)
    return value


def exchange(port, spec, etags):
    """Send one request and return (record, live ETag or None)."""
    if "raw" in spec:
        return _exchange_raw(port, spec), None
    sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S)
    try:
        sock.sendall(request_bytes(spec, etags))
        resp = http.client.HTTPResponse(sock, method=spec["method"])
        resp.begin()
        body = resp.read()
        raw_headers = resp.getheaders()
    finally:
        sock.close()
    path = expand(spec["path"]).split("?")[0]
    etag = next((v for k, v in raw_headers if k.lower() == "etag"), None)
    record = {"id": spec["id"], "status": resp.status}
    if spec.get("check") == "status-content-type":
        record["headers"] = [[k, v] for k, v in raw_headers if k.lower() == "content-type"]
        return record, etag
    record["headers"] = [[k, _normalise_header(path, k, v)] for k, v in raw_headers
                         if k.lower() != "date"]
    if any(k.lower() == "content-encoding" for k, _ in raw_headers):
        record["body_b64"] = base64.b64encode(body).decode("ascii")
    else:
        record.update(_body_fields(body, "body"))
    return record, etag


def _exchange_raw(port, spec):
    """The raw bytes out, everything back until the server closes (a reset counts as closed)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S)
    sock.settimeout(float(spec.get("close_after_s", RAW_WAIT_S)))
    got, closed = b"", False
    try:
        sock.sendall(expand(spec["raw"]).encode("latin-1"))
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    except socket.timeout:
        closed = False
    except ConnectionResetError:
        closed = True
    finally:
        sock.close()
    record = {"id": spec["id"]}
    record.update(_body_fields(_DATE_LINE.sub(b"", got), "response"))
    record["closed"] = closed
    return record


def canonical(record):
    """A record's answer as compared: header names case-insensitive and their order free, except
    among fields of one name (two Vary lines); everything else exact."""
    out = {k: v for k, v in record.items() if k != "request"}
    if "headers" in out:
        out["headers"] = sorted(([k.lower(), v] for k, v in out["headers"]), key=lambda kv: kv[0])
    return out


def body_bytes(record):
    for key in ("body", "response"):
        if key in record:
            return record[key].encode("utf-8")
        if key + "_b64" in record:
            return base64.b64decode(record[key + "_b64"])
    return b""


def describe_mismatch(want, got):
    """Readable lines: status, a diff of the headers, the first differing body byte in context."""
    lines = []
    want_c, got_c = canonical(want), canonical(got)
    for key in ("status", "closed"):
        if want_c.get(key) != got_c.get(key):
            lines.append("  %s: recorded %r, got %r" % (key, want_c.get(key), got_c.get(key)))
    if want_c.get("headers") != got_c.get("headers"):
        diff = difflib.unified_diff(["%s: %s" % tuple(h) for h in want_c.get("headers", [])],
                                    ["%s: %s" % tuple(h) for h in got_c.get("headers", [])],
                                    "recorded headers", "replayed headers", lineterm="", n=0)
        lines += ["  " + d for d in diff]
    a, b = body_bytes(want), body_bytes(got)
    if a != b:
        i = next((k for k in range(min(len(a), len(b))) if a[k] != b[k]), min(len(a), len(b)))
        lo = max(0, i - 40)
        lines.append("  body: %d bytes recorded, %d replayed; first difference at byte %d"
                     % (len(a), len(b), i))
        lines.append("    recorded: %r" % a[lo:i + 40])
        lines.append("    replayed: %r" % b[lo:i + 40])
    kinds = ("body" in want) + 2 * ("body_b64" in want), ("body" in got) + 2 * ("body_b64" in got)
    if a == b and kinds[0] != kinds[1]:
        lines.append("  body: stored as text in one record and as base64 in the other")
    return lines


def dump_corpus(records, path=CORPUS):
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
