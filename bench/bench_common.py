"""What every section of bench/bench.py uses: the servers on free loopback ports, curl and wrk, the
numpy baseline, and the medians.
"""

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
PYTHON = "/usr/bin/python3"  # Debian's, which sees python3-numpy


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on a free loopback port, stopped with SIGTERM."""

    def __init__(self, argv, name, ready_path):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv + ["--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                code, _, _ = curl(self.url + ready_path, timeout=2)
                if code == 200:
                    return
            except RuntimeError:
                pass
            time.sleep(0.05)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"{name} did not start: {self.log.read()[-2000:].decode(errors='replace')}")

    @property
    def pid(self):
        return self.proc.pid

    def status_kb(self, field):
        """A memory figure of /proc/<pid>/status (VmHWM: peak resident set; VmRSS: current)."""
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        raise RuntimeError(f"no {field} for {self.name}")

    def cpu_seconds(self):
        """User + system CPU time of all the server's threads so far."""
        with open(f"/proc/{self.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.seek(0)
        self.log_text = self.log.read().decode(errors="replace")
        self.log.close()


def curl(url, out="/dev/null", timeout=60):
    """One GET: (HTTP status, seconds from connect to the last byte, bytes of body)."""
    r = subprocess.run(["curl", "-s", "-o", out, "--max-time", str(timeout), "-w",
                        "%{http_code} %{time_total} %{size_download}", url],
                       capture_output=True, text=True)
    parts = r.stdout.split()
    if len(parts) != 3:
        raise RuntimeError(f"curl {url}: {r.stderr.strip() or r.returncode}")
    return int(parts[0]), float(parts[1]), int(parts[2])


def curl_ok(url, out="/dev/null"):
    code, t, size = curl(url, out)
    if code != 200:
        raise RuntimeError(f"GET {url} answered {code}")
    return t, size


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def wrk(url, seconds, threads=2, conns=64, script=None, headers=(), script_args=()):
    """wrk --latency: requests/s, p50/p99 latency (ms), requests and errors. script_args go to
    the script's init(args)."""
    extra = ["-s", os.path.join(HERE, script)] if script else []
    for h in headers:
        extra += ["-H", h]
    tail = ["--", *script_args] if script_args else []
    r = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency",
                        "--timeout", "5s", *extra, url, *tail], capture_output=True, text=True,
                       timeout=seconds + 30)
    out = r.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    total = re.search(r"(\d+) requests in", out)
    if not (rps and p50 and p99 and total):
        raise RuntimeError(f"wrk {url}: cannot read its output:\n{out}\n{r.stderr}")
    errors = 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    return {"rps": float(rps.group(1)), "p50_ms": to_ms(p50.group(1)),
            "p99_ms": to_ms(p99.group(1)), "requests": int(total.group(1)), "errors": errors}


def numpy_ref(spec):
    """Run the numpy baseline in a fresh Debian python3, OPENBLAS_* unset (see the env notes)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    r = subprocess.run([PYTHON, os.path.join(HERE, "numpy_ref.py"), json.dumps(spec)],
                       capture_output=True, text=True, env=env, timeout=900)
    if r.returncode != 0:
        raise RuntimeError(f"numpy_ref {spec}: {r.stderr}")
    return json.loads(r.stdout)


def median(xs):
    return statistics.median(xs)


def spread(xs):
    """Relative half-range around the median: how noisy repetitions were."""
    m = median(xs)
    return (max(xs) - min(xs)) / 2 / m if m else 0.0


def close(a, b, rel=1e-9):
    return a is not None and b is not None and abs(a - b) <= rel * max(abs(a), abs(b), 1e-300)
