"""Shared by compose-test.py and kube-test.py: podman configured as lib.sh configures it, the
cache lock, logging, and bounded waits. Everything addressed is 127.0.0.1 or one of the test's
own containers."""

import fcntl
import http.client
import json
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
NAME = os.path.basename(sys.argv[0]).removesuffix(".py")


def log(msg):
    print(f"{NAME}: {msg}", flush=True)


class Failure(Exception):
    pass


class Skip(Exception):
    pass


def expect(cond, msg):
    if not cond:
        raise Failure(msg)


def container_env():
    """The podman configuration of lib.sh (storage, runc, cgroupfs, rlimits), in os.environ."""
    out = subprocess.run(
        ["bash", "-c", f"source {HERE}/lib.sh && container_env && "
         'echo "$CONTAINERS_STORAGE_CONF" && echo "$CONTAINERS_CONF" && '
         'echo "$GDLAB_CONTAINER_CACHE"'], capture_output=True, text=True, check=True)
    storage, conf, cache = out.stdout.split()
    os.environ.update(CONTAINERS_STORAGE_CONF=storage, CONTAINERS_CONF=conf)
    return cache


def lock(cache, seconds=1800):
    """The cache lock that every container test holds (lib.sh's container_lock)."""
    f = open(os.path.join(cache, "lock"), "w")
    deadline = time.monotonic() + seconds
    while True:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return f
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise Failure(f"another container test has held {cache}/lock for too long")
            time.sleep(1)


def podman(*args, check=True, timeout=300):
    run = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and run.returncode != 0:
        raise Failure(f"podman {' '.join(args)}: exit {run.returncode}: "
                      f"{run.stderr.strip()[-800:]}")
    return run


def inspect(name, fmt):
    return podman("inspect", "--format", fmt, name).stdout.strip()


def preflight(*tools):
    for tool in ("podman", *tools):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode:
            raise Skip(f"{tool} is not installed (scripts/setup test installs it)")
    if os.getuid() != 0:
        raise Skip("needs root: rootless podman needs subordinate ids this machine lacks")


def need_image(tag):
    if podman("image", "exists", tag, check=False).returncode != 0:
        raise Skip(f"image {tag} is missing: container.build (build-images.sh) makes it")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(host, port, path, timeout=10, method="GET", body=None):
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()


def wait_for(what, check, seconds):
    """Polls check() until it returns a true value, at most `seconds`; returns that value."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except (OSError, http.client.HTTPException, Failure) as e:
            last = e
        time.sleep(0.2)
    raise Failure(f"{what}: not within {seconds} s" + (f" (last: {last})" if last else ""))


def container_ip(name):
    """The container's address on its (bridge) network: reached from the host directly."""
    networks = json.loads(inspect(name, "{{json .NetworkSettings.Networks}}") or "{}")
    for net in networks.values():
        if net.get("IPAddress"):
            return net["IPAddress"]
    ip = inspect(name, "{{.NetworkSettings.IPAddress}}")
    expect(ip, f"{name} has no IP address")
    return ip


def main(run):
    """Runs run() with the skip/fail conventions of the other container tests."""
    try:
        run()
    except Skip as e:
        log(f"SKIP: {e}")
        return SKIP
    except Failure as e:
        log(f"FAIL: {e}")
        return 1
    log("PASS")
    return 0
