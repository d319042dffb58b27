#!/usr/bin/env bash
# The Kubernetes manifests under k8s/, checked without a cluster (none runs here: no
# container engine, no VM). What this cannot show — that the images build, that the pods
# start and talk to each other on k3s — is listed in docs/kubernetes.md.
#
#  - k8s/sync copies schema/ and scripts/ faithfully and lists every migration;
#  - every YAML document parses and has apiVersion, kind, metadata.name; the kustomization
#    names every manifest and every file it generates from exists;
#  - every daemon (daemons/*/main.c) has a Deployment running udaconnect:local with
#    /health and /ready probes on the port its configuration listens on, resources,
#    a locked-down securityContext, a grace period, scrape annotations, its own secrets;
#  - the udaconnect.conf of the ConfigMap passes the real `udc-writer -t` and sets every key
#    of the sample; the broker users' password hashes made by the RabbitMQ init step verify;
#  - the Dockerfile installs the -dev package of every pkg-config module of the Makefile
#    (build stage) and the runtime package of every library the binaries link;
#  - with kubectl at hand, `kubectl kustomize` renders the whole thing.
# shellcheck disable=SC2013,SC2016 # word lists on purpose; eval'd strings expand when run
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
bin_dir=${UDC_BIN_DIR:-$repo/build/bin}
plain_bin_dir=$repo/build/bin
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() { # description command...
    local what=$1
    shift
    if "$@"; then ok "$what"; else not_ok "$what"; fi
}

if ! "$py" -c 'import yaml' 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-yaml >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-yaml >/dev/null 2>&1; }
fi
if ! "$py" -c 'import yaml' 2>/dev/null; then
    not_ok "python3-yaml is not installed and could not be installed"
    exit 1
fi

# A copy of k8s/ made ready to render, as vagrant/provision.sh does: sync, then secrets.env
# from the example. The working tree stays as it is.
k8s=$tmp/k8s
cp -r "$repo/k8s" "$k8s"
rm -rf "$k8s/generated" "$k8s/secrets.env"
if "$repo/k8s/sync" "$k8s/generated" >"$tmp/sync.log" 2>&1; then
    ok "k8s/sync writes generated/"
else
    not_ok "k8s/sync failed: $(cat "$tmp/sync.log")"
fi
cp "$repo/k8s/secrets.example.env" "$k8s/secrets.env"
same_files() { # dir-a dir-b: the same files with the same bytes
    diff -r "$1" "$2" >/dev/null 2>&1
}
check "generated/migrations is schema/migrations" same_files "$repo/schema/migrations" "$k8s/generated/migrations"
check "generated/seed is schema/seed" same_files "$repo/schema/seed" "$k8s/generated/seed"
check "generated/rabbitmq/definitions.json is the repository's" \
    cmp -s "$repo/schema/rabbitmq/definitions.json" "$k8s/generated/rabbitmq/definitions.json"
check "generated/rabbitmq-advanced/advanced.config is the repository's" \
    cmp -s "$repo/schema/rabbitmq/advanced.config" "$k8s/generated/rabbitmq-advanced/advanced.config"
check "generated/scripts holds scripts/migrate and its library" \
    eval 'cmp -s "$repo/scripts/migrate" "$k8s/generated/scripts/migrate" &&
          cmp -s "$repo/scripts/lib/common.sh" "$k8s/generated/scripts/common.sh"'

# The structural checks; the extracted udaconnect.conf is written to $tmp/udaconnect.conf.
"$py" - "$repo" "$k8s" "$tmp/udaconnect.conf" <<'PY' || not_ok "the structural checks stopped early (a Python error above)"
import glob, os, re, sys
import yaml

repo, k8s, conf_out = sys.argv[1:4]
results = []

def check(cond, what):
    print(("ok - " if cond else "not ok - ") + what)
    return cond

# --- every document -------------------------------------------------------------------
docs = []  # (relative path, document)
files = sorted(glob.glob(os.path.join(k8s, "**", "*.y*ml"), recursive=True))
check(len(files) > 0, "YAML files found under k8s/")
for path in files:
    rel = os.path.relpath(path, k8s)
    try:
        with open(path) as f:
            loaded = [d for d in yaml.safe_load_all(f) if d is not None]
    except yaml.YAMLError as e:
        check(False, f"{rel} parses: {e}")
        continue
    check(len(loaded) > 0, f"{rel} parses ({len(loaded)} documents)")
    for i, d in enumerate(loaded):
        name = (d.get("metadata") or {}).get("name") if isinstance(d, dict) else None
        check(isinstance(d, dict) and bool(d.get("apiVersion")) and bool(d.get("kind")) and bool(name),
              f"{rel} document {i + 1} has apiVersion, kind and metadata.name ({name})")
        docs.append((rel, d))

def objects(kind):
    return {d["metadata"]["name"]: d for rel, d in docs
            if isinstance(d, dict) and d.get("kind") == kind and "metadata" in d}

# --- kustomizations ---------------------------------------------------------------------
kust = {rel: d for rel, d in docs if d.get("kind") == "Kustomization"}
top = kust.get("kustomization.yaml")
check(top is not None, "k8s/kustomization.yaml exists")
top = top or {}
check(top.get("namespace") == "udaconnect", "everything goes to the namespace udaconnect")
generators = {}  # ConfigMap name -> {key: path}
for rel, k in kust.items():
    base = os.path.dirname(rel)
    for r in k.get("resources", []):
        check(os.path.exists(os.path.join(k8s, base, r)), f"{rel}: resource {r} exists")
    for g in k.get("configMapGenerator", []) + k.get("secretGenerator", []):
        paths = g.get("files", []) + g.get("envs", [])
        for p in paths:
            check(os.path.isfile(os.path.join(k8s, base, p)), f"{rel}: {g['name']} file {p} exists")
        generators[g["name"]] = {os.path.basename(p): os.path.join(k8s, base, p) for p in paths}
manifests = {os.path.relpath(p, k8s) for p in files} - set(kust)
listed = {os.path.normpath(r) for r in top.get("resources", [])}
for m in sorted(manifests):
    check(m in listed, f"{m} is listed in kustomization.yaml resources")
migrations = sorted(os.path.basename(p) for p in glob.glob(os.path.join(repo, "schema/migrations/*.sql")))
check(sorted(generators.get("udaconnect-migrations", {})) == migrations,
      "ConfigMap udaconnect-migrations holds every migration")

# --- the configuration ------------------------------------------------------------------
conf_path = generators.get("udaconnect-config", {}).get("udaconnect.conf")
check(conf_path is not None, "ConfigMap udaconnect-config is generated from udaconnect.conf")
conf_text = open(conf_path).read() if conf_path else ""
with open(conf_out, "w") as f:
    f.write(conf_text)

def conf_keys(text):
    keys, section = {}, None
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        m = re.match(r"\s*([a-z_]+)\s*=\s*\{", line)
        if m:
            section = m.group(1)
            continue
        if re.match(r"\s*\};", line):
            section = None
            continue
        m = re.match(r"\s*([a-z_]+)\s*=\s*(.*?);\s*$", line)
        if section and m:
            keys[f"{section}.{m.group(1)}"] = m.group(2)
    return keys

sample = conf_keys(open(os.path.join(repo, "udaconnect.conf")).read())
ours = conf_keys(conf_text)
missing = sorted(set(sample) - set(ours))
check(not missing, f"k8s/udaconnect.conf sets every key of the sample (missing: {missing})")
check(not re.search(r"://[^/@\s\"]*:[^/@\s\"]*@", conf_text),
      "k8s/udaconnect.conf holds no password in its URLs")

def ports_of(value):
    return [int(p) for p in re.findall(r":(\d+)\"", value)]

# --- secrets ----------------------------------------------------------------------------
example = {}
for line in open(os.path.join(repo, "k8s/secrets.example.env")):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        k, v = line.split("=", 1)
        example[k] = v
check(bool(example) and all("CHANGE-ME" in v for v in example.values()),
      "secrets.example.env holds placeholders only")
ignored = open(os.path.join(repo, "k8s/.gitignore")).read().split()
check("/secrets.env" in ignored and "/generated/" in ignored,
      "k8s/.gitignore keeps secrets.env and generated/ out of git")

def secret_refs(obj):
    if isinstance(obj, dict):
        if "secretKeyRef" in obj:
            yield obj["secretKeyRef"]
        for v in obj.values():
            yield from secret_refs(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from secret_refs(v)

for rel, d in docs:
    for ref in secret_refs(d):
        check(ref.get("name") == "udaconnect-secrets" and ref.get("key") in example,
              f"{rel} {d['metadata']['name']}: secret key {ref.get('key')} exists in secrets.example.env")

def configmap_refs(spec):
    for v in spec.get("volumes", []):
        if "configMap" in v:
            yield v["configMap"]["name"]

for kind in ("Deployment", "StatefulSet", "Job"):
    for name, d in objects(kind).items():
        for cm in configmap_refs(d["spec"]["template"]["spec"]):
            check(cm in generators, f"{kind} {name}: ConfigMap {cm} is generated by kustomize")

users = [u["name"] for u in __import__("json").load(open(os.path.join(repo, "schema/rabbitmq/definitions.json")))["users"]]
def pw_key(user):
    return "AMQP_PASSWORD_" + user.upper().replace("-", "_")
rabbit = objects("StatefulSet").get("rabbitmq")
check(rabbit is not None, "StatefulSet rabbitmq exists")
if rabbit:
    rspec = rabbit["spec"]["template"]["spec"]
    rvols = {v["name"]: v for v in rspec.get("volumes", [])}
    rmount = {m["mountPath"]: m for m in rspec["containers"][0].get("volumeMounts", [])}.get(
        "/etc/rabbitmq/advanced.config", {})
    check(rvols.get(rmount.get("name"), {}).get("configMap", {}).get("name") == "udaconnect-rabbitmq-advanced"
          and rmount.get("subPath") == "advanced.config"
          and "advanced.config" in generators.get("udaconnect-rabbitmq-advanced", {}),
          "the broker reads schema/rabbitmq/advanced.config at /etc/rabbitmq/advanced.config")
    init_env = {e["name"] for c in rspec.get("initContainers", [])
                for e in c.get("env", [])}
    for u in users:
        check(pw_key(u) in init_env and pw_key(u) in example,
              f"broker user {u} gets its password hash from {pw_key(u)}")
pg = objects("StatefulSet").get("postgres")
check(pg is not None and pg["spec"]["template"]["spec"]["containers"][0]["image"] == "postgis/postgis:15-3.4"
      and pg["spec"].get("volumeClaimTemplates"), "StatefulSet postgres runs postgis/postgis:15-3.4 on a PVC")

# --- the daemons ------------------------------------------------------------------------
deployments = objects("Deployment")
services = objects("Service")
daemons = sorted(os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(repo, "daemons/*/main.c")))
check(len(daemons) > 0, "daemons found under daemons/")
for n in daemons:
    check(f"udc-{n}" in deployments, f"daemon {n} has a Deployment udc-{n}")

def probe_port(container, probe):
    p = container.get(probe, {}).get("httpGet", {})
    port = p.get("port")
    for cp in container.get("ports", []):
        if port in (cp.get("name"), cp.get("containerPort")):
            return p.get("path"), cp["containerPort"]
    return p.get("path"), None

for name, d in sorted(deployments.items()):
    spec = d["spec"]["template"]["spec"]
    pod_sc = spec.get("securityContext", {})
    section = name[len("udc-"):].replace("-", "_")
    listen = sorted(set(ports_of(ours.get(f"{section}.admin_listen", "")) +
                        ports_of(ours.get(f"{section}.listen", ""))))
    check(spec.get("terminationGracePeriodSeconds", 30) >= 30,
          f"{name}: terminationGracePeriodSeconds >= 30 (the daemons' drain time)")
    check(spec.get("automountServiceAccountToken") is False, f"{name}: no service account token")
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c.get("securityContext", {})
        res = c.get("resources", {})
        check(all(k in res.get(t, {}) for t in ("requests", "limits") for k in ("cpu", "memory")),
              f"{name}/{c['name']}: cpu and memory requests and limits")
        check(sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True
              and sc.get("readOnlyRootFilesystem") is True
              and sc.get("allowPrivilegeEscalation") is False
              and sc.get("capabilities", {}).get("drop") == ["ALL"],
              f"{name}/{c['name']}: runAsNonRoot, readOnlyRootFilesystem, no privilege escalation, drop ALL")
    main = next((c for c in spec["containers"] if c["name"] == name), None)
    if not check(main is not None, f"{name}: has a container {name}"):
        continue
    check(main.get("image") == "udaconnect:local", f"{name}: image is udaconnect:local")
    check(main.get("command", [None])[0] == name and "/etc/udaconnect/udaconnect.conf" in main.get("command", []),
          f"{name}: runs {name} -c /etc/udaconnect/udaconnect.conf")
    live, ready = probe_port(main, "livenessProbe"), probe_port(main, "readinessProbe")
    check(live[0] == "/health" and live[1] is not None, f"{name}: liveness probe GET /health on a declared port")
    check(ready[0] == "/ready" and ready[1] is not None, f"{name}: readiness probe GET /ready on a declared port")
    check(bool(listen) and live[1] in listen and ready[1] in listen,
          f"{name}: probes use a port its configuration listens on ({listen})")
    ann = d["spec"]["template"]["metadata"].get("annotations", {})
    check(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == str(live[1])
          and ann.get("prometheus.io/path") == "/metrics", f"{name}: Prometheus scrape annotations")
    mounts = {m["mountPath"]: m["name"] for m in main.get("volumeMounts", [])}
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    check(vols.get(mounts.get("/etc/udaconnect"), {}).get("configMap", {}).get("name") == "udaconnect-config",
          f"{name}: udaconnect-config mounted at /etc/udaconnect")
    env = {e["name"]: e.get("valueFrom", {}).get("secretKeyRef", {}).get("key") for e in main.get("env", [])}
    amqp_url = ours.get(f"{section}.amqp_url", "")
    m = re.match(r'"amqp://([^:@"]+)@', amqp_url)
    if m:
        check(env.get("UDC_AMQP_PASSWORD") == pw_key(m.group(1)),
              f"{name}: UDC_AMQP_PASSWORD is the password of its broker user {m.group(1)}")
    else:
        check("UDC_AMQP_PASSWORD" not in env, f"{name}: no broker password (no broker user)")
    svc = services.get(name)
    if check(svc is not None, f"{name}: has a Service"):
        svc_ports = {p["port"] for p in svc["spec"]["ports"]}
        check(set(listen) <= svc_ports, f"{name}: its Service exposes ports {listen}")

def node_ports(name):
    return {p.get("nodePort") for p in services.get(name, {}).get("spec", {}).get("ports", [])} \
        if services.get(name, {}).get("spec", {}).get("type") == "NodePort" else set()

check({30001, 30000} <= node_ports("udc-api"), "udc-api: NodePorts 30001 and 30000")
check(30002 in node_ports("udc-ingest-http"), "udc-ingest-http: NodePort 30002")
for w in ("udc-writer", "udc-connector", "udc-ingest-amqp"):
    check(services.get(w, {}).get("spec", {}).get("type", "ClusterIP") == "ClusterIP", f"{w}: ClusterIP Service")

jobs = objects("Job")
bf = jobs.get("udc-backfill")
check(bf is not None and "--backfill" in bf["spec"]["template"]["spec"]["containers"][0].get("command", [])
      and any(c["name"] == "await-migrations" for c in bf["spec"]["template"]["spec"].get("initContainers", [])),
      "Job udc-backfill runs udc-connector --backfill after the migrations")
check("udc-migrate" in jobs, "Job udc-migrate exists")
PY

# The configuration as the daemons will see it, checked by a real daemon.
if [ ! -x "$bin_dir/udc-writer" ]; then
    not_ok "$bin_dir/udc-writer is not built (run make)"
elif out=$("$bin_dir/udc-writer" -t -c "$tmp/udaconnect.conf" 2>&1); then
    ok "udc-writer -t accepts the ConfigMap's udaconnect.conf"
else
    not_ok "udc-writer -t rejects the ConfigMap's udaconnect.conf: $out"
fi

# The RabbitMQ init step: a hash per user that RabbitMQ's sha256 scheme verifies, and
# nothing else changed.
defs=$repo/schema/rabbitmq/definitions.json
pw_env=()
while IFS= read -r user; do
    pw_env+=("AMQP_PASSWORD_$(tr 'a-z-' 'A-Z_' <<<"$user")=pw-$user-\"%é")
done < <("$py" -c 'import json,sys; [print(u["name"]) for u in json.load(open(sys.argv[1]))["users"]]' "$defs")
if env "${pw_env[@]}" "$repo/k8s/rabbitmq/hash-definitions" "$defs" "$tmp/defs.json" >"$tmp/hash.log" 2>&1 &&
    "$py" - "$defs" "$tmp/defs.json" <<'PY'
import base64, hashlib, json, sys
orig, made = (json.load(open(p)) for p in sys.argv[1:3])
for u in made["users"]:
    raw = base64.b64decode(u["password_hash"])
    pw = ("pw-" + u["name"] + '-"%é').encode()
    assert len(raw) == 36 and raw[4:] == hashlib.sha256(raw[:4] + pw).digest(), u["name"]
    u["password_hash"] = ""
for u in orig["users"]:
    u["password_hash"] = ""
assert orig == made, "definitions differ beyond the hashes"
PY
then
    ok "rabbitmq/hash-definitions fills in verifiable password hashes and changes nothing else"
else
    not_ok "rabbitmq/hash-definitions: $(cat "$tmp/hash.log")"
fi
if env "${pw_env[@]:1}" "$repo/k8s/rabbitmq/hash-definitions" "$defs" "$tmp/defs2.json" >/dev/null 2>&1; then
    not_ok "rabbitmq/hash-definitions accepts a user without a password"
else
    ok "rabbitmq/hash-definitions refuses a user without a password"
fi

# The image: its build stage installs the -dev package of every pkg-config module the
# Makefile builds with; its runtime stage the runtime package of every library the binaries
# link (and the agreed list).
dockerfile=$repo/k8s/Dockerfile
build_stage=$(awk '/^FROM /{n++} n == 1' "$dockerfile")
runtime_stage=$(awk '/^FROM /{buf=""} {buf = buf $0 "\n"} END {printf "%s", buf}' "$dockerfile")
installs() { # stage-text package
    grep -qE "(^|[[:space:]])$2([[:space:]]|\\\\|$)" <<<"$1"
}
for module in $(sed -n 's/^PKGS :=//p' "$repo/Makefile"); do
    pc=$(pkg-config --path "$module" 2>/dev/null)
    dev=$([ -n "$pc" ] && dpkg -S "$pc" 2>/dev/null | head -n 1 | cut -d: -f1)
    if [ -z "$dev" ]; then
        not_ok "no Debian package found for the pkg-config module $module"
    elif installs "$build_stage" "$dev"; then
        ok "Dockerfile's build stage installs $dev (pkg-config $module)"
    else
        not_ok "Dockerfile's build stage lacks $dev (pkg-config $module)"
    fi
done
wanted="libpq5 librabbitmq4 libjson-c5 libconfig9 libmicrohttpd12 libsystemd0"
if ls "$plain_bin_dir"/udc-* >/dev/null 2>&1; then
    for bin in "$plain_bin_dir"/udc-*; do
        ldd "$bin" 2>/dev/null | awk '/=> \//{print $1, $3}'
    done | sort -u >"$tmp/libs"
    for lib in $(for bin in "$plain_bin_dir"/udc-*; do
        readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
    done | sort -u); do
        path=$(awk -v l="$lib" '$1 == l {print $2; exit}' "$tmp/libs")
        pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -n 1 | cut -d: -f1)
        [ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
        case $pkg in libc6 | "") ;; *) wanted+=" $pkg" ;; esac
    done
else
    not_ok "$plain_bin_dir/udc-* not built: cannot list the libraries they link"
fi
for pkg in $(tr ' ' '\n' <<<"$wanted" | sort -u); do
    if installs "$runtime_stage" "$pkg"; then
        ok "Dockerfile's runtime stage installs $pkg"
    else
        not_ok "Dockerfile's runtime stage lacks $pkg"
    fi
done
check "Dockerfile builds on Debian 12 with make" \
    eval 'grep -q "^FROM debian:bookworm" "$dockerfile" && grep -q "make .*daemons" "$dockerfile"'
check "Dockerfile puts the binaries in /usr/bin and the page in /usr/share/udaconnect/www" \
    eval 'grep -q "build/bin/ /usr/bin/" "$dockerfile" && grep -q "www /usr/share/udaconnect/www" "$dockerfile"'
check "Dockerfile runs as the numeric user 10001" grep -q '^USER 10001' "$dockerfile"

# Rendering needs kustomize (built into kubectl); not every machine has it.
if command -v kubectl >/dev/null 2>&1; then
    if kubectl kustomize "$k8s" >"$tmp/rendered.yaml" 2>"$tmp/render.err"; then
        ok "kubectl kustomize renders k8s/"
        "$py" - "$tmp/rendered.yaml" "$tmp/rendered.conf" <<'PY' || not_ok "the rendered checks stopped early"
import re, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
names = {d["metadata"]["name"] for d in docs}
text = open(sys.argv[1]).read()
ok = all(d["metadata"].get("namespace") == "udaconnect" for d in docs if d["kind"] != "Namespace")
print(("ok - " if ok else "not ok - ") + "rendered objects all live in the namespace udaconnect")
refs = set(re.findall(r"name: (udaconnect-[a-z-]+(?:-[a-z0-9]{10})?)\s", text))
dangling = sorted(r for r in refs if r not in names)
print(("ok - " if not dangling else "not ok - ") + f"rendered ConfigMap/Secret references resolve (dangling: {dangling})")
conf = [d["data"]["udaconnect.conf"] for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("udaconnect-config-")]
print(("ok - " if len(conf) == 1 else "not ok - ") + "rendered ConfigMap udaconnect-config-<hash> holds udaconnect.conf")
open(sys.argv[2], "w").write(conf[0] if conf else "")
PY
        if out=$("$bin_dir/udc-writer" -t -c "$tmp/rendered.conf" 2>&1); then
            ok "udc-writer -t accepts udaconnect.conf as rendered into its ConfigMap"
        else
            not_ok "udc-writer -t rejects the rendered udaconnect.conf: $out"
        fi
    else
        not_ok "kubectl kustomize fails: $(head -c 500 "$tmp/render.err")"
    fi
else
    echo "# kubectl not installed: the kustomize rendering is not checked"
fi
