#!/usr/bin/python3
"""Scale-out test: three gdlab replicas behind a real nginx running docker/nginx.conf.

    scaleout-test.py GDLAB_BINARY NGINX_CONF

Starts three gdlab processes on free loopback ports and Debian's nginx with docker/nginx.conf, in
which only the upstream servers, the listen address and the file paths are rewritten. Then:

  0. headers:   the same configuration in front of three echo upstreams shows what gdlab cannot
                (it logs no request headers): X-Real-IP and X-Forwarded-For carry the client's
                address, and upstream connections are HTTP/1.1 and reused (keep-alive);
  1. spread:    requests through nginx reach every replica, about a third each, counted from each
                replica's access log and cross-checked against nginx's log of $upstream_addr (and
                against /metrics when the server has per-path counters); nginx keeps idle
                keep-alive connections open to every replica afterwards;
  2. identical: the same requests answered byte for byte the same by every replica, directly and
                through nginx;
  3. crash:     one replica is killed (SIGKILL) in the middle of a load run; no client request
                fails, nginx logs its failed attempts, retries them on another replica and sends
                nothing more to the dead one;
  4. drain:     a second replica is stopped with SIGTERM in the middle of a load run; again no client
                request fails, and the replica exits 0 after finishing what it had;
  5. none left: with the last replica stopped, nginx answers 502 as application/problem+json.

Every request goes to 127.0.0.1; every load loop is bounded in count and in time. All processes
and the temporary folder are removed on every exit path. Exits 77 (CTest's skip) if nginx is not
installed, 1 on any failure.
"""

import ctypes
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REPLICAS = 3
CLIENT_THREADS = 4
SPREAD_REQUESTS = 600
LOAD_REQUESTS = 1200  # per failure phase
LOAD_TIME_LIMIT = 60.0  # seconds, per load run
TRAIN = "/train?lr=0.2,0.8,1.1&epochs=200&history=0"


def log(msg):
    print(f"scaleout: {msg}", flush=True)


class Failure(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def die_with_parent():
    """Runs in each child before exec: the kernel kills it if this test dies, even by SIGKILL."""
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path, method="GET", body=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


class Replica:
    def __init__(self, binary, workdir, index):
        self.index = index
        self.log_path = os.path.join(workdir, f"gdlab-{index}.log")
        env = {k: v for k, v in os.environ.items() if not k.startswith("GDLAB_")}
        env.update(GDLAB_THREADS="2", GDLAB_SHUTDOWN_GRACE="10")
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", "0"], stdin=subprocess.DEVNULL,
            stdout=self.log_file, stderr=subprocess.STDOUT, env=env, preexec_fn=die_with_parent)
        self.port = self.wait_for_port()

    def wait_for_port(self):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)/", self.read_log())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise Failure(f"replica {self.index} exited with {self.proc.returncode}:\n"
                              + self.read_log().decode(errors="replace"))
            time.sleep(0.05)
        raise Failure(f"replica {self.index} did not report its port within 15 s")

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read()

    def served(self, pattern=rb"^GET /train 200 "):
        return len(re.findall(pattern, self.read_log(), re.M))

    @property
    def addr(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log_file.close()


def readiness_path(port):
    """/ready when the server has it, else /health (readiness came after the first HTTP cut)."""
    status, _, _ = get(port, "/ready")
    return "/ready" if status == 200 else "/health"


def wait_ok(port, path, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if get(port, path, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise Failure(f"127.0.0.1:{port}{path} did not answer 200 within {seconds} s")


def nginx_config(template, workdir, listen_port, replicas):
    """docker/nginx.conf for loopback: only servers, listen and paths change. Each rewrite must
    match, so that a change to the file that this test no longer understands fails loudly."""
    conf = template

    def sub(pattern, repl, text, count=0, expected=None):
        new, n = re.subn(pattern, repl, text, count=count, flags=re.M)
        if n == 0 or (expected is not None and n != expected):
            raise Failure(f"nginx.conf: expected {expected or 'some'} match(es) of {pattern!r}, "
                          f"found {n}; update scaleout-test.py with the file")
        return new

    servers = iter(replicas)
    conf = sub(r"^(\s*server\s+)gdlab-\d+:8080(\b[^;]*;)",
               lambda m: f"{m.group(1)}{next(servers).addr}{m.group(2)}", conf,
               expected=len(replicas))
    conf = sub(r"^(\s*listen\s+)8080;", rf"\g<1>127.0.0.1:{listen_port};", conf, expected=1)
    conf = sub(r"^pid\s+\S+;", f"pid {workdir}/nginx.pid;", conf, expected=1)
    conf = sub(r"^error_log\s+\S+", f"error_log {workdir}/error.log", conf, expected=1)
    conf = sub(r"^(\s*access_log\s+)/dev/stdout", rf"\g<1>{workdir}/access.log", conf,
               expected=1)
    temp_paths = "".join(f"    {kind}_temp_path {workdir}/{kind}_temp;\n"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = sub(r"^http \{\n", lambda m: m.group(0) + temp_paths, conf, expected=1)
    return "daemon off;\n" + conf


def check_config_headers(conf):
    """What cannot be observed from here (gdlab does not log request headers) is read off the
    file: the client's address is passed on, and upstream connections are kept alive."""
    for needle in ("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
                   "proxy_set_header X-Real-IP $remote_addr;",
                   'proxy_set_header Connection "";', "proxy_http_version 1.1;"):
        expect(needle in conf, f"nginx.conf lacks `{needle}`")
    expect(re.search(r"^\s*keepalive\s+\d+;", conf, re.M), "nginx.conf's upstream has no keepalive")
    expect(re.search(r"proxy_next_upstream\s[^;]*\berror\b", conf),
           "nginx.conf does not retry the next upstream on error")


def established(port):
    """Established TCP connections whose local end is 127.0.0.1:port (from /proc/net/tcp)."""
    local = f"0100007F:{port:04X}"
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[3] == "01":
                n += 1
    return n


class Load:
    """Bounded client load through nginx: CLIENT_THREADS keep-alive connections sharing a budget
    of `total` requests, stopping early at LOAD_TIME_LIMIT. Records every failure."""

    def __init__(self, port, total):
        self.port, self.total = port, total
        self.sent = 0
        self.ok = 0
        self.failures = []
        self.lock = threading.Lock()
        self.deadline = time.monotonic() + LOAD_TIME_LIMIT
        self.threads = [threading.Thread(target=self.worker) for _ in range(CLIENT_THREADS)]

    def take(self):
        with self.lock:
            if self.sent >= self.total or time.monotonic() > self.deadline:
                return False
            self.sent += 1
            return True

    def worker(self):
        conn = None
        while self.take():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                conn.request("GET", TRAIN)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200:
                    raise Failure(f"HTTP {resp.status}: {body[:200]!r}")
                with self.lock:
                    self.ok += 1
            except Exception as e:  # every kind of failure counts against the balancer
                with self.lock:
                    self.failures.append(f"{type(e).__name__}: {e}")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def wait_until_sent(self, n):
        while self.sent < n and any(t.is_alive() for t in self.threads):
            time.sleep(0.005)

    def join(self):
        for t in self.threads:
            t.join()
        return self


def nginx_upstream_counts(workdir, replicas):
    """{replica addr: requests of /train that it finally answered}, from nginx's access log."""
    counts = {r.addr: 0 for r in replicas}
    retried = 0
    with open(os.path.join(workdir, "access.log")) as f:
        for line in f:
            if '"GET /train?' not in line:
                continue
            m = re.search(r"upstream=(\S+(?:, \S+)*) upstream_status=(\S+(?:, \S+)*)", line)
            addrs = m.group(1).split(", ")
            retried += len(addrs) > 1
            counts[addrs[-1]] = counts.get(addrs[-1], 0) + 1
    return counts, retried


def noticed(workdir, victim):
    """(nginx error-log lines about the victim, requests nginx moved from it to another)."""
    with open(os.path.join(workdir, "error.log")) as f:
        errors = f.read().count(f'upstream: "http://{victim.addr}/')
    retried = 0
    with open(os.path.join(workdir, "access.log")) as f:
        for line in f:
            m = re.search(r"upstream=(\S+(?:, \S+)*) upstream_status", line)
            if m and victim.addr in m.group(1).split(", ")[:-1]:
                retried += 1
    return errors, retried


TRAIN_SERIES = re.compile(
    r'^(\w*requests?\w*_total)\{([^}]*\b(?:path|endpoint|route|handler)="/train"[^}]*)\}\s+(\S+)',
    re.M)


def metrics_train_count(replica):
    """Requests of /train answered 200 according to the replica's Prometheus /metrics (0 before
    the first: a counter appears with its first request), or None when it has no /metrics."""
    try:
        status, content, _ = get(replica.port, "/metrics")
    except OSError:
        return None
    if status != 200:
        return None
    total = 0.0
    for _, labels, value in TRAIN_SERIES.findall(content.decode(errors="replace")):
        code = re.search(r'\b(?:code|status)="(\d+)"', labels)
        if code and code.group(1) != "200":
            continue
        total += float(value)
    return total


def phase_spread(nginx_port, replicas, workdir):
    before = [r.served() for r in replicas]
    metrics_before = [metrics_train_count(r) for r in replicas]
    load = Load(nginx_port, SPREAD_REQUESTS).start().join()
    expect(not load.failures, f"{len(load.failures)} failed requests: {load.failures[:5]}")
    expect(load.ok == SPREAD_REQUESTS,
           f"only {load.ok} of {SPREAD_REQUESTS} requests done within {LOAD_TIME_LIMIT} s")
    time.sleep(0.2)  # the access log line is written when the response completes
    counts = [r.served() - b for r, b in zip(replicas, before)]
    log(f"spread: {SPREAD_REQUESTS} requests through nginx, {CLIENT_THREADS} client connections; "
        f"served per replica (access logs): {counts}")
    expect(sum(counts) == SPREAD_REQUESTS,
           f"replica logs count {sum(counts)} requests, {SPREAD_REQUESTS} were sent")
    for r, n in zip(replicas, counts):
        expect(n >= 0.2 * SPREAD_REQUESTS,
               f"replica {r.index} served {n} of {SPREAD_REQUESTS}: round robin would give "
               f"about {SPREAD_REQUESTS // REPLICAS}")
    by_nginx, _ = nginx_upstream_counts(workdir, replicas)
    by_nginx = [by_nginx[r.addr] for r in replicas]
    log(f"spread: nginx's log ($upstream_addr) agrees: {by_nginx}")
    expect(by_nginx == counts, f"nginx logged {by_nginx}, replicas logged {counts}")
    metrics_after = [metrics_train_count(r) for r in replicas]
    if None in metrics_before or None in metrics_after:
        log("spread: the replicas have no /metrics; the access logs are the count")
    else:
        by_metrics = [round(a - b) for a, b in zip(metrics_after, metrics_before)]
        log(f"spread: /metrics of each replica agrees: {by_metrics}")
        expect(by_metrics == counts, f"/metrics counted {by_metrics}, access logs {counts}")
    kept = [established(r.port) for r in replicas]
    log(f"spread: idle keep-alive connections from nginx per replica afterwards: {kept}")
    expect(all(k > 0 for k in kept), f"no kept-alive upstream connection to some replica: {kept}")


def phase_identical(nginx_port, replicas):
    body = json.dumps({"seed": 7, "n": 50, "b_steps": 21, "w_steps": 21, "x_multiplier": 10})
    cases = [("GET", TRAIN, None), ("GET", "/dataset?seed=3&n=40&scaler=standard", None),
             ("POST", "/surface", body), ("GET", "/scale?x_multiplier=10", None),
             ("GET", "/cross-section", None)]
    for method, path, data in cases:
        answers = {}
        for r in replicas:
            status, content, _ = get(r.port, path, method, data)
            expect(status == 200, f"{method} {path} on replica {r.index}: HTTP {status}: "
                   f"{content[:300]!r}")
            answers[f"replica {r.index}"] = content
        for i in range(2 * REPLICAS):
            status, content, _ = get(nginx_port, path, method, data)
            expect(status == 200, f"{method} {path} through nginx: HTTP {status}")
            answers[f"nginx #{i}"] = content
        reference = answers["replica 1"]
        json.loads(reference)
        differing = [who for who, content in answers.items() if content != reference]
        expect(not differing, f"{method} {path}: {differing} answered differently from replica 1")
        log(f"identical: {method} {path}: {len(answers)} answers, byte for byte the same "
            f"({len(reference)} bytes)")


def phase_failure(nginx_port, replicas, victim, how, workdir):
    survivors = [r for r in replicas if r is not victim and r.proc.poll() is None]
    before = {r.index: r.served() for r in survivors}
    noticed_before = noticed(workdir, victim)
    load = Load(nginx_port, LOAD_REQUESTS).start()
    load.wait_until_sent(LOAD_REQUESTS // 3)
    at = load.sent
    victim.proc.send_signal(how)
    try:
        code = victim.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        raise Failure(f"replica {victim.index} did not exit within 20 s of {how.name}")
    victim_served = victim.served()
    load.join()
    time.sleep(0.2)
    after = {r.index: r.served() - before[r.index] for r in survivors}
    errors, retried = (a - b for a, b in zip(noticed(workdir, victim), noticed_before))
    log(f"{how.name}: replica {victim.index} stopped after {at} of {LOAD_REQUESTS} requests "
        f"(exit {code}); {load.ok} succeeded, {len(load.failures)} failed; survivors served "
        f"{after}; nginx logged {errors} error(s) from it and retried {retried} request(s) "
        f"on another replica")
    expect(not load.failures, f"{len(load.failures)} client requests failed: {load.failures[:5]}")
    expect(load.ok == LOAD_REQUESTS,
           f"only {load.ok} of {LOAD_REQUESTS} requests done within {LOAD_TIME_LIMIT} s")
    expect(victim.served() == victim_served, f"replica {victim.index} served after it stopped")
    expect(all(n > 0 for n in after.values()), f"a surviving replica got no traffic: {after}")
    if how == signal.SIGTERM:
        expect(code == 0, f"replica {victim.index} exited {code} after SIGTERM, expected 0")
        expect(b"stopped" in victim.read_log(), "replica did not log its clean stop")
    else:
        expect(code == -signal.SIGKILL, f"replica {victim.index} exited {code}")
        expect(errors > 0 and retried > 0,
               "nginx never met the killed replica: the test proved nothing")
    return load


class Nginx:
    """Debian's nginx in the foreground, running docker/nginx.conf rewritten for `upstreams`."""

    def __init__(self, template, workdir, upstreams):
        os.makedirs(workdir, mode=0o755, exist_ok=True)
        self.workdir = workdir
        self.port = free_port()
        conf_file = os.path.join(workdir, "nginx.conf")
        with open(conf_file, "w") as f:
            f.write(nginx_config(template, workdir, self.port, upstreams))
        args = [NGINX, "-p", workdir, "-c", conf_file, "-e", f"{workdir}/error.log"]
        check = subprocess.run(args + ["-t"], capture_output=True, text=True)
        expect(check.returncode == 0, f"nginx -t rejects the config:\n{check.stderr}")
        self.out = open(os.path.join(workdir, "nginx.out"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        wait_ok(self.port, "/nginx-health")

    def stop(self):
        self.proc.send_signal(signal.SIGQUIT)  # graceful: workers finish, then exit
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


class Echo:
    """A stand-in upstream that answers with the headers nginx sent it and remembers which TCP
    connection each request came on: what gdlab cannot show (it does not log request headers)."""

    def __init__(self):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep connections open, as gdlab does

            def do_GET(self):
                seen.append({"conn": self.client_address[1], "version": self.request_version,
                             "headers": {k.lower(): v for k, v in self.headers.items()}})
                body = b'{"status":"ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.addr = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def phase_headers(template, workdir):
    """The client's address reaches the replicas, over HTTP/1.1 connections that are reused."""
    echoes = [Echo() for _ in range(REPLICAS)]
    nginx = None
    try:
        nginx = Nginx(template, os.path.join(workdir, "echo"), echoes)
        requests = 30
        for i in range(requests):
            forwarded = {"X-Forwarded-For": "127.0.0.9"} if i % 2 else {}
            conn = http.client.HTTPConnection("127.0.0.1", nginx.port, timeout=10)
            conn.request("GET", f"/train?i={i}", headers=forwarded)
            resp = conn.getresponse()
            resp.read()
            conn.close()
            expect(resp.status == 200, f"request {i} through nginx to the echo: {resp.status}")
        seen = [r for e in echoes for r in e.seen]
        expect(len(seen) == requests, f"the echoes saw {len(seen)} of {requests} requests")
        for r in seen:
            h = r["headers"]
            expect(r["version"] == "HTTP/1.1", f"nginx spoke {r['version']} to the upstream")
            expect(h.get("connection", "").lower() != "close",
                   "nginx asked the upstream to close the connection")
            expect(h.get("x-real-ip") == "127.0.0.1", f"X-Real-IP {h.get('x-real-ip')!r}")
            expect(h.get("x-forwarded-for") in ("127.0.0.1", "127.0.0.9, 127.0.0.1"),
                   f"X-Forwarded-For {h.get('x-forwarded-for')!r}")
            expect(h.get("x-forwarded-proto") == "http", "no X-Forwarded-Proto")
            expect(h.get("host") == "127.0.0.1", f"Host {h.get('host')!r}, expected the client's")
        appended = sum(r["headers"].get("x-forwarded-for") == "127.0.0.9, 127.0.0.1" for r in seen)
        expect(appended == requests // 2, "a client's X-Forwarded-For was not extended")
        per_echo = [len(e.seen) for e in echoes]
        connections = len({(e.addr, r["conn"]) for e in echoes for r in e.seen})
        log(f"headers: {requests} requests through nginx to {REPLICAS} echo upstreams "
            f"{per_echo}: X-Real-IP and X-Forwarded-For carry the client's address (appended to "
            f"the client's own), HTTP/1.1 on {connections} upstream connection(s)")
        expect(connections <= 2 * REPLICAS,
               f"{connections} upstream connections for {requests} requests: no keep-alive")
    finally:
        if nginx is not None:
            nginx.stop()
        for e in echoes:
            e.stop()


def run(binary, conf_path, workdir):
    template = open(conf_path).read()
    check_config_headers(template)
    phase_headers(template, workdir)
    replicas = []
    nginx = None
    try:
        for i in range(1, REPLICAS + 1):
            replicas.append(Replica(binary, workdir, i))
        ready = readiness_path(replicas[0].port)
        for r in replicas:
            wait_ok(r.port, ready)
        log(f"replicas up on {', '.join(r.addr for r in replicas)} (ready on {ready})")

        nginx = Nginx(template, workdir, replicas)
        nginx_port = nginx.port
        wait_ok(nginx_port, ready)
        log(f"nginx {nginx_port} -> {REPLICAS} replicas")

        status, content, headers = get(nginx_port, "/nope")
        expect(status == 404 and headers.get("Content-Type", "").startswith(
            "application/problem+json"), f"a 404 through nginx is not gdlab's problem: {status}")

        phase_spread(nginx_port, replicas, workdir)
        phase_identical(nginx_port, replicas)
        phase_failure(nginx_port, replicas, replicas[1], signal.SIGKILL, workdir)
        phase_failure(nginx_port, replicas, replicas[2], signal.SIGTERM, workdir)

        # With every replica gone, nginx answers a problem document, not an HTML page.
        replicas[0].proc.terminate()
        replicas[0].proc.wait(timeout=20)
        status, content, headers = get(nginx_port, TRAIN)
        expect(status == 502 and headers.get("Content-Type") == "application/problem+json",
               f"with no replica left nginx answered {status} {headers.get('Content-Type')}")
        json.loads(content)
        log("no replica left: nginx answers 502 application/problem+json")
    finally:
        if nginx is not None:
            nginx.stop()
        for r in replicas:
            r.stop()


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    binary, conf_path = argv[1], argv[2]
    if not os.access(NGINX, os.X_OK):
        print(f"scaleout: SKIP: nginx is not installed ({NGINX}); scripts/setup installs it")
        return SKIP
    workdir = tempfile.mkdtemp(prefix="gdlab-scaleout-")
    os.chmod(workdir, 0o755)  # nginx's workers run as nobody and create their temp folders here

    def on_signal(signum, frame):
        raise Failure(f"interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run(binary, conf_path, workdir)
    except Failure as e:
        log(f"FAIL: {e}")
        for name in sorted(os.listdir(workdir)):
            if name.endswith((".log", ".out")) and name != "access.log":
                with open(os.path.join(workdir, name), errors="replace") as f:
                    tail = f.readlines()[-15:]
                print(f"--- {name} (last lines)\n{''.join(tail)}", end="")
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    log("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
