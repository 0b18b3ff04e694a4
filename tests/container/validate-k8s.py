#!/usr/bin/python3
"""Validate docker/k8s/ against the Kubernetes API schemas, offline.

kubectl's own validation (`apply --dry-run=client --validate=strict`) downloads the OpenAPI document
from a cluster, and these machines have none. Debian's python3-kubernetes ships the API's object
models, generated from the Kubernetes OpenAPI specification (release 1.22): every field's JSON name
and type, and in each setter which fields are required. This script walks every manifest through
those models, so an unknown or misspelt field, a wrong type or a missing required field fails, then
checks what ties the objects to each other and to docker/Dockerfile: selectors and labels, named
ports, probe paths, the HPA's target, requests within limits, the image's user and port.

autoscaling/v2 went GA in Kubernetes 1.23 with the schema of autoscaling/v2beta2 unchanged, so an
autoscaling/v2 HorizontalPodAutoscaler is checked against the V2beta2 models. A lifecycle handler's
`sleep` action (Kubernetes 1.30 and later) is newer than the models: it is checked against its
schema here (SleepAction: one required integer, seconds).

    validate-k8s.py [--self-test] K8S_DIR DOCKERFILE

--self-test breaks the manifests in memory in one way at a time and requires every breakage to be
reported, so that the validator itself is known to be able to fail.
"""

import ast
import copy
import inspect
import pathlib
import re
import sys

import yaml

try:
    import kubernetes.client as k8s
except ImportError:  # pragma: no cover - reported as a failure, the package is in the setup list
    sys.exit("validate-k8s: python3-kubernetes is not installed (scripts/setup installs it)")

# (apiVersion, kind) -> the model class generated from the API schema.
MODELS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler",
    ("autoscaling/v1", "HorizontalPodAutoscaler"): "V1HorizontalPodAutoscaler",
    ("policy/v1", "PodDisruptionBudget"): "V1PodDisruptionBudget",
}

# resource.Quantity: a decimal with an optional binary, decimal or exponent suffix.
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$")
SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
          "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "P": 1e15, "E": 1e18}
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
IANA_SVC_NAME = re.compile(r"^(?=.{1,15}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?$")


def quantity_value(text):
    """The number a Quantity stands for (cpu in cores, memory in bytes)."""
    text = str(text)
    m = QUANTITY.match(text)
    suffix = m.group(3) or ""
    number = float(text[: len(text) - len(suffix)] if suffix else text)
    if suffix[:1] in ("e", "E"):
        return float(text)
    return number * SUFFIX[suffix]


def model_required(cls):
    """Attributes whose setter rejects None: the schema's required fields."""
    required = set()
    for attr in cls.openapi_types:
        setter = getattr(cls, attr).fset
        if "must not be `None`" in inspect.getsource(setter):
            required.add(attr)
    return required


def model_enum(cls, attr):
    """The allowed values a setter enforces, if the schema gave an enum."""
    source = inspect.getsource(getattr(cls, attr).fset)
    m = re.search(r"allowed_values = (\[.*?\])", source, re.S)
    return ast.literal_eval(m.group(1)) if m else None


class Validator:
    def __init__(self):
        self.errors = []

    def error(self, where, message):
        self.errors.append(f"{where}: {message}")

    # -- schema walk ---------------------------------------------------------------------------
    def check_type(self, value, typ, path):
        if path.endswith(("resources.requests", "resources.limits")) and isinstance(value, dict):
            for name, quantity in value.items():
                self.check_quantity(quantity, f"{path}.{name}")
            return
        if path.endswith(".divisor"):
            self.check_quantity(value, path)
            return
        list_of = re.fullmatch(r"list\[(.+)\]", typ)
        dict_of = re.fullmatch(r"dict\((\w+), (.+)\)", typ)
        if list_of:
            if not isinstance(value, list):
                self.error(path, f"expected a list, got {type(value).__name__}")
                return
            for i, item in enumerate(value):
                self.check_type(item, list_of.group(1), f"{path}[{i}]")
        elif dict_of:
            if not isinstance(value, dict):
                self.error(path, f"expected a map, got {type(value).__name__}")
                return
            for key, item in value.items():
                if not isinstance(key, str):
                    self.error(path, f"map key {key!r} is not a string")
                self.check_type(item, dict_of.group(2), f"{path}.{key}")
        elif typ == "str" or typ == "datetime":
            if not isinstance(value, str):
                self.error(path, f"expected a string, got {type(value).__name__} {value!r}")
        elif typ == "int":
            if not isinstance(value, int) or isinstance(value, bool):
                self.error(path, f"expected an integer, got {type(value).__name__} {value!r}")
        elif typ == "float":
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                self.error(path, f"expected a number, got {type(value).__name__} {value!r}")
        elif typ == "bool":
            if not isinstance(value, bool):
                self.error(path, f"expected true or false, got {type(value).__name__} {value!r}")
        elif typ == "object":
            # In the objects validated here every "object" is an IntOrString (ports, maxSurge,
            # maxUnavailable, minAvailable).
            if isinstance(value, bool) or not isinstance(value, (int, str)):
                self.error(path, f"expected an integer or a string, got {value!r}")
        else:
            self.check_model(value, getattr(k8s, typ), path)

    def check_model(self, value, cls, path):
        if cls.__name__ == "V1Handler" and isinstance(value, dict) and "sleep" in value:
            value = dict(value)
            sleep = value.pop("sleep")
            if not isinstance(sleep, dict) or set(sleep) != {"seconds"}:
                self.error(f"{path}.sleep", f"a SleepAction has exactly one field, seconds: {sleep!r}")
            elif not isinstance(sleep["seconds"], int) or isinstance(sleep["seconds"], bool):
                self.error(f"{path}.sleep.seconds", f"expected an integer, got {sleep['seconds']!r}")
            if value:
                self.error(path, f"a handler has one action; sleep and {sorted(value)} given")
            return
        if not isinstance(value, dict):
            self.error(path, f"expected an object ({cls.__name__}), got {type(value).__name__}")
            return
        by_json = {json: attr for attr, json in cls.attribute_map.items()}
        for key, item in value.items():
            attr = by_json.get(key)
            if attr is None:
                self.error(f"{path}.{key}", f"unknown field (not in {cls.__name__}; "
                           f"fields: {', '.join(sorted(by_json))})")
                continue
            if item is None:
                continue
            allowed = model_enum(cls, attr)
            if allowed is not None and item not in allowed:
                self.error(f"{path}.{key}", f"{item!r} is not one of {allowed}")
            self.check_type(item, cls.openapi_types[attr], f"{path}.{key}")
        for attr in sorted(model_required(cls)):
            if value.get(cls.attribute_map[attr]) is None:
                self.error(path, f"required field {cls.attribute_map[attr]!r} is missing")

    def check_quantity(self, value, path):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)) or \
                not QUANTITY.match(str(value)):
            self.error(path, f"{value!r} is not a Kubernetes quantity")

    # -- one document ----------------------------------------------------------------------------
    def check_document(self, doc, where):
        if not isinstance(doc, dict):
            self.error(where, "a manifest must be a mapping")
            return
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key not in MODELS:
            self.error(where, f"unsupported apiVersion/kind {key}; known: {sorted(MODELS)}")
            return
        where = f"{where} {key[1]}"
        self.check_model(doc, getattr(k8s, MODELS[key]), where)
        name = (doc.get("metadata") or {}).get("name")
        if not isinstance(name, str) or not DNS_1123_LABEL.match(name):
            self.error(where, f"metadata.name {name!r} is not a DNS-1123 label")


def container_ports(deployment):
    """{name or number: containerPort} over the pod template's containers."""
    ports = {}
    for c in deployment["spec"]["template"]["spec"].get("containers", []):
        for p in c.get("ports", []):
            ports[p["containerPort"]] = p["containerPort"]
            if "name" in p:
                ports[p["name"]] = p["containerPort"]
    return ports


def dockerfile_facts(text):
    """The runtime stage's USER uid and EXPOSEd ports."""
    user = expose = None
    for line in text.splitlines():
        words = line.split()
        if words and words[0] == "USER":
            user = int(words[1].split(":")[0])
        if words and words[0] == "EXPOSE":
            expose = [int(w.split("/")[0]) for w in words[1:]]
    return user, expose


def dockerfile_has(dockerfile, word):
    """Whether the Dockerfile mentions word (a path the image has, an argument's default)."""
    return word in dockerfile


def check_relations(v, docs, dockerfile):
    """What ties the objects to each other and to the image."""
    by_kind = {}
    for where, doc in docs:
        by_kind.setdefault(doc.get("kind"), []).append((where, doc))
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler"):
        if len(by_kind.get(kind, [])) != 1:
            v.error("docker/k8s", f"expected exactly one {kind}, found {len(by_kind.get(kind, []))}")
    if v.errors:
        return
    where, dep = by_kind["Deployment"][0]
    spec = dep["spec"]
    pod = spec["template"]["spec"]
    pod_labels = spec["template"].get("metadata", {}).get("labels", {})
    selector = spec["selector"].get("matchLabels", {})
    if not selector or any(pod_labels.get(k) != val for k, val in selector.items()):
        v.error(where, f"selector {selector} does not select the template's labels {pod_labels}")
    if spec.get("replicas", 1) < 2:
        v.error(where, "replicas must be at least 2 to survive the loss of one pod")

    uid, exposed = dockerfile_facts(dockerfile)
    sc = pod.get("securityContext", {})
    if sc.get("runAsNonRoot") is not True:
        v.error(where, "securityContext.runAsNonRoot must be true")
    if sc.get("runAsUser") != uid:
        v.error(where, f"runAsUser {sc.get('runAsUser')} differs from the Dockerfile's USER {uid}")

    ports = container_ports(dep)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    for i, c in enumerate(pod["containers"]):
        cw = f"{where} containers[{i}]"
        for p in c.get("ports", []):
            if exposed and p["containerPort"] not in exposed:
                v.error(cw, f"containerPort {p['containerPort']} is not EXPOSEd by the image "
                        f"({exposed})")
        for probe, path in (("readinessProbe", "/ready"), ("livenessProbe", "/health")):
            # httpGet on the path, or gdlab's own `--probe PATH` (what the image's HEALTHCHECK runs).
            get = (c.get(probe) or {}).get("httpGet")
            command = ((c.get(probe) or {}).get("exec") or {}).get("command")
            if command:
                if len(command) != 3 or not command[0].endswith("/gdlab") or \
                        command[1] != "--probe" or not dockerfile_has(dockerfile, command[0]):
                    v.error(cw, f"{probe} command {command} is not the image's gdlab --probe PATH")
                elif command[2] != path:
                    v.error(cw, f"{probe} path is {command[2]!r}, expected {path!r}")
                continue
            if not get:
                v.error(cw, f"{probe} must be an httpGet or gdlab --probe probe on {path}")
                continue
            if get.get("path") != path:
                v.error(cw, f"{probe} path is {get.get('path')!r}, expected {path!r}")
            if get.get("port") not in ports:
                v.error(cw, f"{probe} port {get.get('port')!r} is not a port of the container")
        pre_stop = (c.get("lifecycle") or {}).get("preStop") or {}
        command = (pre_stop.get("exec") or {}).get("command") or []
        pause = (pre_stop.get("sleep") or {}).get("seconds")
        if pause is None and len(command) == 2 and command[0].endswith("sleep"):
            if not dockerfile_has(dockerfile, "RUNTIME_BASE=scratch"):
                pause = float(command[1])
            else:
                v.error(cw, f"preStop runs {command[0]}, which the distroless image lacks: "
                        "use the sleep action")
        if pause is None or pause <= 0:
            v.error(cw, "lifecycle.preStop must pause (sleep) before SIGTERM")
        else:
            env = {e.get("name"): e.get("value") for e in c.get("env", [])}
            drain = float(env.get("GDLAB_SHUTDOWN_GRACE") or 30)  # gdlab's default
            if pause + drain >= grace:
                v.error(cw, f"terminationGracePeriodSeconds {grace} does not cover the {pause:g} s "
                        f"preStop pause plus gdlab's shutdown grace of {drain:g} s "
                        "(GDLAB_SHUTDOWN_GRACE): busy pods would be killed")
        res = c.get("resources") or {}
        for kind in ("cpu", "memory"):
            req = (res.get("requests") or {}).get(kind)
            lim = (res.get("limits") or {}).get(kind)
            if req is None or lim is None:
                v.error(cw, f"resources must set both a request and a limit for {kind}")
            elif QUANTITY.match(str(req)) and QUANTITY.match(str(lim)) and \
                    quantity_value(req) > quantity_value(lim):
                v.error(cw, f"{kind} request {req} exceeds its limit {lim}")

    for where_s, svc in by_kind["Service"]:
        sel = svc["spec"].get("selector", {})
        if not sel or any(pod_labels.get(k) != val for k, val in sel.items()):
            v.error(where_s, f"selector {sel} selects no pod of the Deployment ({pod_labels})")
        for p in svc["spec"].get("ports", []):
            if p.get("targetPort", p.get("port")) not in ports:
                v.error(where_s, f"targetPort {p.get('targetPort')!r} is not a container port "
                        f"({sorted(map(str, ports))})")

    for where_h, hpa in by_kind["HorizontalPodAutoscaler"]:
        hs = hpa["spec"]
        ref = hs["scaleTargetRef"]
        if (ref.get("apiVersion"), ref.get("kind"), ref.get("name")) != \
                (dep["apiVersion"], "Deployment", dep["metadata"]["name"]):
            v.error(where_h, f"scaleTargetRef {ref} does not name the Deployment")
        if hs.get("minReplicas", 1) > hs["maxReplicas"]:
            v.error(where_h, "minReplicas exceeds maxReplicas")
        cpu = [m for m in hs.get("metrics", [])
               if m.get("type") == "Resource" and m.get("resource", {}).get("name") == "cpu"]
        if hpa["apiVersion"] == "autoscaling/v1":
            cpu = [1] if hs.get("targetCPUUtilizationPercentage") else []
        if not cpu:
            v.error(where_h, "no CPU metric: the autoscaler must scale on CPU")
        for c in pod["containers"]:
            if not (c.get("resources") or {}).get("requests", {}).get("cpu"):
                v.error(where_h, f"container {c.get('name')} has no CPU request, so CPU "
                        "utilization is undefined")

    for where_p, pdb in by_kind.get("PodDisruptionBudget", []):
        sel = pdb["spec"].get("selector", {}).get("matchLabels", {})
        if not sel or any(pod_labels.get(k) != val for k, val in sel.items()):
            v.error(where_p, f"selector {sel} selects no pod of the Deployment")
        floor = min(hs.get("minReplicas", 1) for _, hs in
                    [(w, h["spec"]) for w, h in by_kind["HorizontalPodAutoscaler"]])
        if isinstance(pdb["spec"].get("minAvailable"), int) and \
                pdb["spec"]["minAvailable"] >= floor:
            v.error(where_p, f"minAvailable {pdb['spec']['minAvailable']} would block every "
                    f"drain at the HPA's floor of {floor} replicas")


def load(k8s_dir):
    """[(where, document)] from every manifest listed by kustomization.yaml, which must list all."""
    errors = []
    kustomization = yaml.safe_load((k8s_dir / "kustomization.yaml").read_text())
    listed = kustomization.get("resources", [])
    present = sorted(p.name for p in k8s_dir.glob("*.yaml") if p.name != "kustomization.yaml")
    for name in sorted(set(present) ^ set(listed)):
        errors.append(f"kustomization.yaml: {name} is "
                      + ("listed but missing" if name in listed else "present but not listed"))
    docs = []
    for name in listed:
        path = k8s_dir / name
        if not path.exists():
            continue
        for i, doc in enumerate(yaml.safe_load_all(path.read_text())):
            if doc is not None:
                docs.append((f"{name}#{i}", doc))
    # An images entry that names no container image is silently ignored by kustomize.
    used = {c.get("image", "").rsplit(":", 1)[0] for _, doc in docs if doc.get("kind") ==
            "Deployment" for c in doc["spec"]["template"]["spec"].get("containers", [])}
    for entry in kustomization.get("images", []):
        if entry.get("name") not in used:
            errors.append(f"kustomization.yaml: images entry {entry.get('name')!r} names no "
                          f"container image ({sorted(used)}), so it would change nothing")
    return docs, errors


def validate(docs, dockerfile, load_errors=()):
    v = Validator()
    v.errors.extend(load_errors)
    for where, doc in docs:
        v.check_document(doc, where)
    if not v.errors:
        check_relations(v, docs, dockerfile)
    return v.errors


def self_test(docs, dockerfile):
    """Each breakage must be reported with the given words; returns the number not caught."""

    def kind(d, k):
        return next(doc for _, doc in d if doc["kind"] == k)

    def container(d):
        return kind(d, "Deployment")["spec"]["template"]["spec"]["containers"][0]

    breakages = [
        ("misspelt field", "unknown field",
         lambda d: container(d).update(imagePullPolicyy="Always")),
        ("replicas as a string", "expected an integer",
         lambda d: kind(d, "Deployment")["spec"].update(replicas="three")),
        ("container without a name", "required field 'name'",
         lambda d: container(d).pop("name")),
        ("Service without ports' port", "required field 'port'",
         lambda d: kind(d, "Service")["spec"]["ports"][0].pop("port")),
        ("HPA without maxReplicas", "required field 'maxReplicas'",
         lambda d: kind(d, "HorizontalPodAutoscaler")["spec"].pop("maxReplicas")),
        ("malformed memory limit", "not a Kubernetes quantity",
         lambda d: container(d)["resources"]["limits"].update(memory="1 GB")),
        ("readiness on /health", "readinessProbe path",
         lambda d: container(d)["readinessProbe"]["exec"].update(
             command=["/usr/bin/gdlab", "--probe", "/health"])),
        ("liveness probe removed", "livenessProbe must be",
         lambda d: container(d).pop("livenessProbe")),
        ("probe running a binary the image lacks", "is not the image's gdlab --probe",
         lambda d: container(d)["livenessProbe"]["exec"].update(
             command=["/usr/bin/curl", "-f", "http://127.0.0.1:8080/health"])),
        ("httpGet probe on an unknown port name", "is not a port of the container",
         lambda d: container(d).update(readinessProbe={"httpGet": {"path": "/ready",
                                                                    "port": "web"}})),
        ("no preStop", "preStop must pause",
         lambda d: container(d).pop("lifecycle")),
        ("preStop sleep binary the image lacks", "which the distroless image lacks",
         lambda d: container(d)["lifecycle"].update(
             preStop={"exec": {"command": ["/bin/sleep", "5"]}})),
        ("sleep action with a string", "sleep.seconds: expected an integer",
         lambda d: container(d)["lifecycle"]["preStop"]["sleep"].update(seconds="5")),
        ("sleep action misspelt", "exactly one field",
         lambda d: container(d)["lifecycle"]["preStop"].update(sleep={"second": 5})),
        ("Service selecting other pods", "selects no pod",
         lambda d: kind(d, "Service")["spec"].update(selector={"app": "other"})),
        ("Deployment selector off its template", "does not select",
         lambda d: kind(d, "Deployment")["spec"]["selector"]["matchLabels"].update(x="y")),
        ("Service to a missing port", "is not a container port",
         lambda d: kind(d, "Service")["spec"]["ports"][0].update(targetPort="metrics")),
        ("HPA aimed elsewhere", "does not name the Deployment",
         lambda d: kind(d, "HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
         .update(name="other")),
        ("CPU request above its limit", "cpu request",
         lambda d: container(d)["resources"]["requests"].update(cpu="64")),
        ("runAsUser not the image's user", "differs from the Dockerfile",
         lambda d: kind(d, "Deployment")["spec"]["template"]["spec"]["securityContext"]
         .update(runAsUser=0)),
        ("port the image does not expose", "is not EXPOSEd",
         lambda d: container(d)["ports"][0].update(containerPort=9090)),
        ("shutdown grace outlasting the termination grace", "does not cover",
         lambda d: kind(d, "Deployment")["spec"]["template"]["spec"]
         .update(terminationGracePeriodSeconds=20)),
        ("boolean as a string", "expected true or false",
         lambda d: kind(d, "Deployment")["spec"]["template"]["spec"]["securityContext"]
         .update(runAsNonRoot="yes")),
    ]
    missed = 0
    for title, words, breakage in breakages:
        broken = copy.deepcopy(docs)
        breakage(broken)
        errors = validate(broken, dockerfile)
        caught = any(words in e for e in errors)
        print(f"  {'caught' if caught else 'MISSED'}: {title}"
              + (f" -> {next(e for e in errors if words in e)}" if caught else
                 f" (errors: {errors})"))
        missed += not caught
    return missed


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    k8s_dir, dockerfile = pathlib.Path(args[0]), pathlib.Path(args[1]).read_text()
    docs, load_errors = load(k8s_dir)
    if "--self-test" in argv:
        if load_errors or validate(docs, dockerfile):
            sys.exit("validate-k8s: the manifests must be valid before the self-test")
        missed = self_test(docs, dockerfile)
        print(f"validate-k8s self-test: {missed} breakage(s) missed")
        return 1 if missed else 0
    errors = validate(docs, dockerfile, load_errors)
    for e in errors:
        print(f"  error: {e}")
    kinds = ", ".join(f"{doc['apiVersion']} {doc['kind']}" for _, doc in docs)
    if errors:
        print(f"validate-k8s: {len(errors)} error(s) in {k8s_dir}")
        return 1
    print(f"validate-k8s: {len(docs)} manifests valid against the Kubernetes API models of "
          f"python3-kubernetes {k8s.__version__ if hasattr(k8s, '__version__') else ''}: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
