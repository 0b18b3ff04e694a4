#!/usr/bin/python3
"""Validate docker/compose.yaml, offline.

    validate-compose.py [--self-test] DOCKER_DIR

Debian's docker-compose (1.29, Python) checks the file against the Compose specification's JSON
schema and resolves it (`docker-compose config`) without a Docker engine. What ties the stack
together is then checked on the resolved file: every gdlab replica is built from docker/Dockerfile,
has a health check that the image provides, is an upstream server of nginx.conf on the port the
image EXPOSEs, and has a stop grace period longer than the shutdown grace it gives gdlab; nginx
mounts nginx.conf, publishes its listen port, waits for every replica to be healthy and has a
health check of its own on a location nginx.conf answers.

--self-test breaks a copy of the file in one way at a time and requires every breakage to be
reported, so that the validator itself is known to be able to fail.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

COMPOSE = shutil.which("docker-compose") or "/usr/bin/docker-compose"


def resolved(docker_dir):
    """(errors, the file as docker-compose resolves it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "COMPOSE_"))}
    run = subprocess.run([COMPOSE, "-f", os.path.join(docker_dir, "compose.yaml"), "config"],
                         capture_output=True, text=True, env=env, timeout=60)
    if run.returncode != 0:
        return [f"docker-compose config: {run.stderr.strip() or run.stdout.strip()}"], None
    return [], yaml.safe_load(run.stdout)


def seconds(duration):
    """A compose duration (30s, 1m30s, 2m) in seconds."""
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s|us)", str(duration)):
        total += float(number) * {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[unit]
    return total


def check(docker_dir):
    errors, conf = resolved(docker_dir)
    if errors:
        return errors
    dockerfile = open(os.path.join(docker_dir, "Dockerfile")).read()
    nginx_conf = open(os.path.join(docker_dir, "nginx.conf")).read()
    exposed = re.findall(r"^EXPOSE\s+(\d+)", dockerfile, re.M)
    upstream = re.search(r"upstream\s+gdlab\s*\{(.*?)\}", nginx_conf, re.S)
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream.group(1), re.M) if upstream \
        else []
    listen = re.findall(r"^\s*listen\s+(\d+);", nginx_conf, re.M)
    services = conf.get("services", {})
    gdlab = sorted(name for name in services if name.startswith("gdlab"))
    errs = []

    if len(gdlab) < 3:
        errs.append(f"compose.yaml: {len(gdlab)} gdlab replica(s), the stack needs three")
    if sorted(name for name, _ in servers) != gdlab:
        errs.append(f"nginx.conf's upstream servers {[s for s, _ in servers]} are not the gdlab "
                    f"services {gdlab}")
    for name, port in servers:
        if port not in exposed:
            errs.append(f"nginx.conf: upstream {name}:{port} is not the image's port {exposed}")

    for name in gdlab:
        svc = services[name]
        build = svc.get("build") or {}
        dockerfile_path = os.path.join(build.get("context", ""), build.get("dockerfile", ""))
        if os.path.realpath(dockerfile_path) != os.path.realpath(
                os.path.join(docker_dir, "Dockerfile")):
            errs.append(f"{name}: builds {dockerfile_path}, not docker/Dockerfile")
        test = (svc.get("healthcheck") or {}).get("test") or []
        if not test or test[0] not in ("CMD", "CMD-SHELL") or \
                not any(word in dockerfile for word in test[1:2]):
            errs.append(f"{name}: health check {test} does not run a command the image has")
        grace = seconds(svc.get("stop_grace_period", "10s"))
        inner = float((svc.get("environment") or {}).get("GDLAB_SHUTDOWN_GRACE", 30))
        if grace <= inner:
            errs.append(f"{name}: stop_grace_period {grace:g} s does not outlast gdlab's "
                        f"shutdown grace of {inner:g} s, so a busy replica would be killed")
        if svc.get("ports"):
            errs.append(f"{name}: publishes ports; only nginx should face clients")

    nginx = services.get("nginx")
    if not nginx:
        return errs + ["compose.yaml: no nginx service"]
    if not any(str(v).split(":")[1:2] == ["/etc/nginx/nginx.conf"] and
               os.path.realpath(str(v).split(":")[0]) ==
               os.path.realpath(os.path.join(docker_dir, "nginx.conf"))
               for v in nginx.get("volumes", [])):
        errs.append(f"nginx: does not mount docker/nginx.conf as /etc/nginx/nginx.conf "
                    f"({nginx.get('volumes')})")
    published = [str(p.get("target") if isinstance(p, dict) else str(p).split(":")[-1])
                 for p in nginx.get("ports", [])]
    if not listen or listen[0] not in published:
        errs.append(f"nginx: publishes {published}, but nginx.conf listens on {listen}")
    depends = nginx.get("depends_on") or {}
    for name in gdlab:
        if (depends.get(name) or {}).get("condition") != "service_healthy":
            errs.append(f"nginx: does not wait for {name} to be healthy")
    test = " ".join((nginx.get("healthcheck") or {}).get("test") or [])
    path = re.search(r"http://127\.0\.0\.1:\d+(/\S*)", test)
    if not path or f"location = {path.group(1)} " not in nginx_conf:
        errs.append(f"nginx: health check {test!r} asks for no location nginx.conf answers")
    return errs


def self_test(docker_dir):
    base = open(os.path.join(docker_dir, "compose.yaml")).read()
    breakages = [
        ("field unknown to the Compose spec", "docker-compose config",
         lambda s: s.replace("  read_only: true\n", "  read_only: true\n  readonly: true\n")),
        ("wrong type in a health check", "docker-compose config",
         lambda s: s.replace("    retries: 3\n  deploy:", "    retries: three\n  deploy:")),
        ("a replica missing", "gdlab-3",
         lambda s: s.replace("  gdlab-3: *gdlab\n", "")),
        ("a fourth replica nginx does not know", "are not the gdlab services",
         lambda s: s.replace("  gdlab-3: *gdlab\n", "  gdlab-3: *gdlab\n  gdlab-4: *gdlab\n")),
        ("another Dockerfile", "not docker/Dockerfile",
         lambda s: s.replace("dockerfile: docker/Dockerfile", "dockerfile: Dockerfile")),
        ("stop grace shorter than gdlab's", "does not outlast",
         lambda s: s.replace("stop_grace_period: 30s", "stop_grace_period: 10s")),
        ("nginx not waiting for a replica", "does not wait for gdlab-2",
         lambda s: s.replace("      gdlab-2: {condition: service_healthy}\n",
                             "      gdlab-2: {condition: service_started}\n")),
        ("nginx.conf not mounted", "does not mount",
         lambda s: s.replace("./nginx.conf:/etc/nginx/nginx.conf:ro",
                             "./nginx.conf:/etc/nginx/conf.d/default.conf:ro")),
        ("nginx published on the wrong port", "but nginx.conf listens on",
         lambda s: s.replace('ports: ["${GDLAB_PUBLISH:-8080}:8080"]', 'ports: ["8080:80"]')),
        ("nginx health check on a missing location", "asks for no location",
         lambda s: s.replace("8080/nginx-health", "8080/status")),
    ]
    missed = 0
    with tempfile.TemporaryDirectory(prefix="gdlab-compose-") as tmp:
        tmp_docker = os.path.join(tmp, "docker")
        shutil.copytree(docker_dir, tmp_docker, ignore=shutil.ignore_patterns("k8s"))
        for title, words, breakage in breakages:
            broken = breakage(base)
            if broken == base:
                print(f"  MISSED: {title} (the breakage no longer applies to compose.yaml)")
                missed += 1
                continue
            with open(os.path.join(tmp_docker, "compose.yaml"), "w") as f:
                f.write(broken)
            errors = check(tmp_docker)
            hit = next((e for e in errors if words in e), None)
            print(f"  {'caught' if hit else 'MISSED'}: {title}"
                  + (f" -> {hit[:160]}" if hit else f" (errors: {errors})"))
            missed += hit is None
    return missed


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 1:
        sys.exit(__doc__)
    docker_dir = os.path.abspath(args[0])
    if not os.access(COMPOSE, os.X_OK):
        print("validate-compose: FAIL: Debian's docker-compose is not installed (scripts/setup)")
        return 1
    errors = check(docker_dir)
    if "--self-test" in argv:
        if errors:
            sys.exit(f"validate-compose: compose.yaml must be valid before the self-test: {errors}")
        missed = self_test(docker_dir)
        print(f"validate-compose self-test: {missed} breakage(s) missed")
        return 1 if missed else 0
    for e in errors:
        print(f"  error: {e}")
    if errors:
        print(f"validate-compose: {len(errors)} error(s)")
        return 1
    print("validate-compose: docker/compose.yaml valid (Compose spec schema via docker-compose "
          "config; replicas, nginx upstreams, health checks and grace periods consistent)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
