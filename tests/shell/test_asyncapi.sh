#!/usr/bin/env bash
# docs/asyncapi.yaml is valid YAML shaped as an AsyncAPI 2.6 document, every $ref in it
# resolves, and every example is written on one line as JSON (what
# tests/unit/test_asyncapi_examples relies on to check the examples against the codec).
set -u
repo=$(cd "$(dirname "$0")/../.." && pwd)
doc=$repo/docs/asyncapi.yaml
if ! /usr/bin/python3 -c 'import yaml' 2>/dev/null; then
    echo "not ok - /usr/bin/python3 cannot import yaml (Debian package python3-yaml)"
    exit 1
fi
/usr/bin/python3 - "$doc" <<'PY'
import json, sys, yaml

path = sys.argv[1]
text = open(path).read()
doc = yaml.safe_load(text)

def report(ok, what):
    print(("ok - " if ok else "not ok - ") + what)

report(doc.get("asyncapi") == "2.6.0", "asyncapi version is 2.6.0")
report(all(k in doc for k in ("info", "servers", "channels", "components")),
       "info, servers, channels and components present")
server = next(iter(doc["servers"].values()))
report(server.get("protocol") == "amqp", "the server speaks amqp")
chan = doc["channels"].get("partner.{partner}.{subject}", {})
ex = chan.get("bindings", {}).get("amqp", {}).get("exchange", {})
report(ex.get("name") == "udc.partner" and ex.get("type") == "topic" and ex.get("vhost") == "udaconnect",
       "partner channel binds to topic exchange udc.partner in vhost udaconnect")
op = chan.get("publish", {}).get("bindings", {}).get("amqp", {})
report(op.get("deliveryMode") == 2, "publish operation asks for delivery mode 2")

def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)

def resolve(ref):
    if not ref.startswith("#/"):
        return False
    node = doc
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True

bad = [r for r in refs(doc) if not resolve(r)]
report(not bad, "every $ref resolves" + (": missing " + ", ".join(bad) if bad else ""))

examples = []
for name, msg in doc["components"]["messages"].items():
    for e in msg.get("examples", []):
        examples.append((name, e))
lines = [l.strip() for l in text.splitlines()]
for name, e in examples:
    for part in ("payload", "headers"):
        if part not in e:
            continue
        found = any(l.startswith(part + ": ") and json.loads(l[len(part) + 2:]) == e[part]
                    for l in lines if l.startswith(part + ": {") or l.startswith(part + ": ["))
        report(found, "example %s/%s: %s is one line of JSON" % (name, e.get("name"), part))
report(len(examples) >= 7, "%d examples (at least 7)" % len(examples))
PY
