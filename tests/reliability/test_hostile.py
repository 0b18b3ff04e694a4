"""The hostile-request table: each raw request gets its documented answer, and the server keeps
serving. usage: test_hostile.py GDLAB_BINARY TABLE [--wrapper CMD...]

The table (hostile.txt) has one case per line: NAME STATUS FLAGS REQUEST, where REQUEST is the
rest of the line with backslash escapes (\\r \\n \\t \\xNN \\\\) and two expansions, {N*text}
(text repeated N times) and {len} (the byte length of the body after the blank line). FLAGS is a
comma list or '-': `problem` (the answer is application/problem+json with this status in it),
`close` (the server closes the connection after answering), `allow` (an Allow header),
`retry` (a Retry-After header). A line `#! ARGS` gives the server's extra arguments.
STATUS 0 means the server closes the connection without an answer (bytes that are not HTTP).
After every case /health must still answer 200 on a fresh connection.
"""

import json
import re
import sys

import gdserver

FLAG_NAMES = {"problem", "close", "allow", "retry"}


def expand(text):
    text = re.sub(r"\{(\d+)\*([^}]*)\}", lambda m: m.group(2) * int(m.group(1)), text)
    raw = text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    if b"{len}" in raw:
        head, sep, body = raw.partition(b"\r\n\r\n")
        raw = head.replace(b"{len}", str(len(body)).encode()) + sep + body
    return raw


def load_table(path):
    args, cases = [], []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("#!"):
                args += line[2:].split()
                continue
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, status, flags, request = line.split(None, 3)
            flags = set() if flags == "-" else set(flags.split(","))
            if flags - FLAG_NAMES:
                raise SystemExit("%s:%d: unknown flags %s" % (path, lineno, flags - FLAG_NAMES))
            cases.append((lineno, name, int(status), flags, expand(request)))
    return args, cases


def check_case(port, name, status, flags, raw, timeout=15):
    """A list of what went wrong with one case (empty when it passed)."""
    try:
        r = gdserver.request(port, raw, timeout=timeout, check_close="close" in flags)
    except OSError as e:
        return ["socket error: %s" % e], None
    errors = []
    if r.status != status:
        errors.append("status %d, expected %d" % (r.status, status))
    if r.status >= 500 and r.status != 505:
        errors.append("a hostile request must get a 4xx, got %d" % r.status)
    if "problem" in flags:
        ctype = r.header("content-type")
        if not ctype.startswith("application/problem+json"):
            errors.append("content-type %r, expected application/problem+json" % ctype)
        else:
            try:
                doc = json.loads(r.body)
                for key in ("type", "title", "status", "detail"):
                    if key not in doc:
                        errors.append("problem document lacks %r" % key)
                if doc.get("status") != status:
                    errors.append("problem status %r" % doc.get("status"))
            except ValueError as e:
                errors.append("problem body is not JSON: %s" % e)
    if "close" in flags and not r.closed:
        errors.append("the server kept the connection open")
    if "allow" in flags and not r.header("allow"):
        errors.append("no Allow header")
    if "retry" in flags and not r.header("retry-after"):
        errors.append("no Retry-After header")
    return errors, r


def main():
    binary, table = sys.argv[1], sys.argv[2]
    wrapper = sys.argv[sys.argv.index("--wrapper") + 1:] if "--wrapper" in sys.argv else []
    args, cases = load_table(table)
    failures = 0
    with gdserver.Server(binary, args + ["--access-log", "off"], wrapper=wrapper,
                         log_path="hostile-server.log") as srv:
        srv.wait_ready(120 if wrapper else 30)
        for lineno, name, status, flags, raw in cases:
            errors, r = check_case(srv.port, name, status, flags, raw)
            health = None
            try:
                health = gdserver.request(srv.port, b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",
                                          timeout=15).status
            except OSError as e:
                health = str(e)
            if health != 200:
                errors.append("/health afterwards answered %s" % health)
            if not srv.alive():
                errors.append("the server died")
            if errors:
                failures += 1
                print("not ok %s (line %d): %s  [%r]" % (name, lineno, "; ".join(errors), r))
            else:
                print("ok %s -> %d%s" % (name, status, " " + ",".join(sorted(flags)) if flags else ""))
            if not srv.alive():
                print(srv.log_tail())
                break
        code = srv.terminate(60)
        if code != 0:
            failures += 1
            print("not ok: server exit status %s after SIGTERM" % code)
    print("%d passed, %d failed" % (len(cases) - min(failures, len(cases)), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
