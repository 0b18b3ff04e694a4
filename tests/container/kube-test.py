#!/usr/bin/python3
"""Kubernetes test: docker/k8s/deployment.yaml run by `podman kube play`, as far as podman goes.

    kube-test.py K8S_DIR TAG

With the images build-images.sh made (TAG tagged as the manifest's gdlab:0.1.0), on a network of
its own:

  1. play:     the Deployment becomes one pod per replica; each gdlab runs as the manifest's
               non-root user 10001 with a read-only root, no capabilities, no-new-privileges and
               seccomp, the manifest's CPU and memory limits, GDLAB_THREADS from limits.cpu, and
               the termination grace as its stop timeout;
  2. probes:   the liveness probe is the container's health check (command, period, timeout,
               threshold); both probes' commands succeed in the container as the kubelet runs them
               (exec form), and /ready and /health answer over the pod network;
  3. drain:    SIGTERM (podman stop) while a long request is in flight: the request completes,
               gdlab exits 0 within terminationGracePeriodSeconds;
  4. down:     `podman kube down` removes every pod and container;
  5. variant:  the same manifest on the Debian variant (TAG-debian), which has the shell that
               podman's health checks need: `podman healthcheck run` runs the liveness probe, healthy.

GAPS lists what podman 4.3 does differently from a cluster; the test checks each gap is still there.
The Service, HPA and PDB need a cluster: tests/container/validate-k8s.py checks them offline.
Exits 77 (CTest's skip) where podman cannot run; removes everything it made on every exit path.
"""

import json
import os
import re
import signal
import sys
import tempfile
import threading
import time

import yaml

from containers import (Failure, container_env, container_ip, expect, get, inspect, lock, log,
                        main, need_image, podman, preflight, wait_for)

MANIFEST_IMAGE = "localhost/gdlab:0.1.0"  # deployment.yaml's image: gdlab:0.1.0
LONG = "/surface?b_steps=2000&w_steps=2000"  # about a second of work, 75 MB of answer

GAPS = [
    "probes become health checks run through /bin/sh -c (`CMD-SHELL cmd || exit 1`), which the "
    "shell-less image cannot run: there the test runs the probe commands with podman exec, as the "
    "kubelet runs them; the Debian variant runs them as podman health checks",
    "only the liveness probe becomes a health check; readiness is not evaluated (no Service "
    "endpoints to take the pod out of)",
    "every containerPort is published on the host at the same number on all addresses (hostPort "
    "defaults to containerPort), so the second replica cannot bind it: the test plays the "
    "manifest without `ports` and reaches each pod at its address on the pod network",
    "a Service adds no cluster address and no spreading over the pods (beside a Deployment it only "
    "brings the same host-port publication): it is not played, and is validated offline with the "
    "HPA and the PDB",
    "lifecycle.preStop is not run: SIGTERM comes at once",
    "`podman pod stop` lost the answer of a request in flight while gdlab drained (the client "
    "timed out); stopping the container alone drains as a cluster does",
    "terminationGracePeriodSeconds is not the stop timeout: podman's 10 s default stays (the "
    "drain test passes the manifest's grace to podman stop -t)",
]


def manifest(k8s_dir, image=None, replicas=None):
    """deployment.yaml without its container ports (GAP: podman would publish each on the host),
    optionally with another image or replica count."""
    deployment = yaml.safe_load(open(os.path.join(k8s_dir, "deployment.yaml")))
    for c in deployment["spec"]["template"]["spec"]["containers"]:
        expect(all(not p.get("hostPort") for p in c.get("ports", [])),
               "the manifest asks for a hostPort: a cluster's pods should not")
        c.pop("ports", None)
    if image:
        deployment["spec"]["template"]["spec"]["containers"][0]["image"] = image
    if replicas:
        deployment["spec"]["replicas"] = replicas
    return deployment


class Play:
    def __init__(self, deployment, network):
        self.deployment = deployment
        self.network = network
        fd, self.path = tempfile.mkstemp(prefix="gdlab-kube-", suffix=".yaml")
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(deployment, f)

    def up(self):
        run = podman("kube", "play", "--network", self.network, self.path, check=False)
        if run.returncode != 0:
            raise Failure(f"podman kube play: exit {run.returncode}: {run.stderr[-1500:]}")
        return run

    def pods(self):
        name = self.deployment["metadata"]["name"]
        out = podman("pod", "ls", "--format", "{{.Name}}").stdout.split()
        return sorted(p for p in out if re.fullmatch(rf"{name}-pod(-\d+)?", p))

    def containers(self):
        out = podman("ps", "-a", "--format", "{{.Names}}").stdout.split()
        cname = self.deployment["spec"]["template"]["spec"]["containers"][0]["name"]
        return sorted(c for c in out if re.fullmatch(rf".*-pod(-\d+)?-{cname}", c))

    def down(self):
        return podman("kube", "down", self.path, check=False)

    def close(self):
        self.down()
        os.unlink(self.path)


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)


def check_play(play, spec):
    c = spec["template"]["spec"]["containers"][0]
    pod_sc = spec["template"]["spec"]["securityContext"]
    limits = c["resources"]["limits"]
    want_cpus = float(str(limits["cpu"]).removesuffix("m")) / (1000 if str(limits["cpu"]).endswith("m") else 1)
    pods, names = play.pods(), play.containers()
    expect(len(pods) == spec["replicas"] and len(names) == spec["replicas"],
           f"{spec['replicas']} replicas asked, podman made pods {pods} with {names}")
    for name in names:
        wait_for(f"{name} running", lambda: inspect(name, "{{.State.Running}}") == "true", 30)
        pid = int(inspect(name, "{{.State.Pid}}"))
        st = proc_status(pid)
        uid, gid = st["Uid"].split()[0], st["Gid"].split()[0]
        expect((uid, gid) == (str(pod_sc["runAsUser"]), str(pod_sc["runAsGroup"])),
               f"{name}: gdlab runs as {uid}:{gid}")
        expect(int(st["CapEff"], 16) == 0, f"{name}: capabilities {st['CapEff']}")
        expect(st["NoNewPrivs"].strip() == "1", f"{name}: privilege escalation allowed")
        expect(st["Seccomp"].strip() == "2", f"{name}: no seccomp filter ({st['Seccomp']})")
        host = json.loads(inspect(name, '{"ro": {{json .HostConfig.ReadonlyRootfs}}, '
                                        '"cpus": {{json .HostConfig.NanoCpus}}, '
                                        '"mem": {{json .HostConfig.Memory}}, '
                                        '"stop": {{json .Config.StopTimeout}}}'))
        expect(host["ro"] is True, f"{name}: root filesystem writable")
        expect(host["cpus"] == round(want_cpus * 1e9), f"{name}: CPU limit {host['cpus']}")
        # GAP: podman keeps its default stop timeout, not terminationGracePeriodSeconds.
        expect(host["stop"] == 10, f"{name}: stop timeout {host['stop']} s, not podman's default "
               "10 s: terminationGracePeriodSeconds honoured now? a gap closed, update GAPS")
        with open(f"/proc/{pid}/environ", "rb") as f:
            env = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
        expect(env.get(b"GDLAB_THREADS") == str(max(1, round(want_cpus + 0.4999))).encode(),
               f"{name}: GDLAB_THREADS={env.get(b'GDLAB_THREADS')} from limits.cpu {limits['cpu']}")
    log(f"play: {len(pods)} pods ({', '.join(pods)}); gdlab as uid/gid {uid}:{gid}, read-only, "
        f"no capabilities, no-new-privileges, seccomp; {limits['cpu']} CPU, {limits['memory']}; "
        f"GDLAB_THREADS={env[b'GDLAB_THREADS'].decode()}")
    return names


def check_probes(names, c):
    live, ready = c["livenessProbe"], c["readinessProbe"]
    for name in names:
        hc = json.loads(inspect(name, "{{json .Config.Healthcheck}}"))
        want = live["exec"]["command"]
        expect(hc["Test"][:1] == ["CMD-SHELL"] and hc["Test"][1:1 + len(want)] == want,
               f"{name}: health check {hc['Test']} is not the liveness probe {want} "
               "(or podman now runs it in exec form: a gap closed, update GAPS)")
        expect(hc["Interval"] == live["periodSeconds"] * 10**9, f"{name}: interval {hc}")
        expect(hc["Timeout"] == live["timeoutSeconds"] * 10**9, f"{name}: timeout {hc}")
        expect(hc["Retries"] == live["failureThreshold"], f"{name}: retries {hc}")
        # GAP: the CMD-SHELL form needs /bin/sh, which the distroless image lacks.
        expect(podman("healthcheck", "run", name, check=False).returncode != 0,
               f"{name}: podman ran the health check without a shell: a gap closed")
        for probe in (live, ready):
            cmd = probe["exec"]["command"]
            run = podman("exec", name, *cmd, check=False)
            expect(run.returncode == 0, f"{name}: {' '.join(cmd)} exited {run.returncode}: "
                   f"{run.stderr.strip()}")
        ip = container_ip(name)
        for path in ("/ready", "/health"):
            status, body, _ = get(ip, 8080, path)
            expect(status == 200, f"{name} {ip}:8080{path}: HTTP {status}")
    log(f"probes: liveness is each container's health check (every {live['periodSeconds']} s, "
        f"{live['timeoutSeconds']} s timeout, {live['failureThreshold']} failures); "
        f"`{' '.join(live['exec']['command'])}` and `{' '.join(ready['exec']['command'])}` exit 0 "
        "in each container; /ready and /health answer 200 on each pod's address")


def check_drain(play, name, grace):
    ip = container_ip(name)
    result = {}

    def long_request():
        try:
            result["status"], body, _ = get(ip, 8080, LONG, timeout=60)
            result["bytes"] = len(body)
        except Exception as e:  # reported below
            result["error"] = repr(e)

    t = threading.Thread(target=long_request)
    t.start()
    time.sleep(0.3)  # let it reach the compute thread
    expect(t.is_alive(), f"the long request ended before SIGTERM: {result}")
    # The container, not the pod: with podman pod stop the request in flight never got its answer
    # here (GAPS), which a cluster, keeping the pod's network until its containers end, gives.
    start = time.monotonic()
    podman("stop", "-t", str(grace), name, timeout=grace + 30)
    took = time.monotonic() - start
    t.join(60)
    code = inspect(name, "{{.State.ExitCode}}")
    logs = podman("logs", name)
    text = logs.stdout + logs.stderr
    expect(result.get("status") == 200 and result.get("bytes", 0) > 10**7,
           f"the request in flight at SIGTERM got {result}")
    expect(code == "0", f"gdlab exited {code} on SIGTERM:\n{text[-1000:]}")
    expect("stopped" in text and re.search(r"^GET /surface 200 ", text, re.M),
           "gdlab's log shows no clean stop after the long request")
    expect(took < grace, f"stopping took {took:.1f} s, past the {grace} s grace")
    log(f"drain: SIGTERM with {LONG} in flight: it completed (200, {result['bytes']} bytes), "
        f"gdlab exited 0 after {took:.1f} s (grace {grace} s)")


def run(k8s_dir, tag):
    preflight()
    cache = container_env()
    held = lock(cache)
    need_image(tag)
    need_image(f"{tag}-debian")
    network = f"gdlab-kube-{os.getpid()}"
    podman("tag", tag, MANIFEST_IMAGE)
    podman("network", "create", network)
    plays = []
    try:
        dep = manifest(k8s_dir)
        spec = dep["spec"]
        c = spec["template"]["spec"]["containers"][0]
        expect(c["image"].removeprefix("docker.io/") in ("gdlab:0.1.0", MANIFEST_IMAGE),
               f"the manifest's image is {c['image']}; update MANIFEST_IMAGE")
        play = Play(dep, network)
        plays.append(play)
        play.up()
        names = check_play(play, spec)
        check_probes(names, c)
        check_drain(play, names[0], spec["template"]["spec"]["terminationGracePeriodSeconds"])
        play.down()
        left = play.pods() + play.containers()
        expect(not left, f"podman kube down left {left}")
        log("down: podman kube down removed every pod and container")

        variant = Play(manifest(k8s_dir, image=f"{tag}-debian", replicas=1), network)
        plays.append(variant)
        variant.up()
        (name,) = variant.containers()
        wait_for(f"{name} healthy (podman healthcheck run)",
                 lambda: podman("healthcheck", "run", name, check=False).returncode == 0, 30)
        hc = json.loads(inspect(name, "{{json .Config.Healthcheck.Test}}"))
        variant.down()
        expect(not variant.pods() + variant.containers(), "podman kube down left the variant")
        log(f"variant: on the Debian image the liveness probe runs as a podman health check: "
            f"{hc} healthy; kube down cleans it too")
        log("podman 4.3 gaps (checked above; the manifests stay right for a cluster):")
        for gap in GAPS:
            log(f"  - {gap}")
    finally:
        for p in plays:
            p.close()
        podman("network", "rm", "-f", network, check=False)
        podman("untag", MANIFEST_IMAGE, MANIFEST_IMAGE, check=False)  # that name only
        held.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(Failure("interrupted")))
    sys.exit(main(lambda: run(os.path.abspath(sys.argv[1]), sys.argv[2])))
