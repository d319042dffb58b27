#!/usr/bin/env bash
# vagrant/provision.sh — runs as root inside the Debian 12 VM at every `vagrant provision`:
#
#  1. installs k3s (single node; its local-path provisioner backs the PVCs) and docker.io;
#  2. builds udaconnect:local from k8s/Dockerfile and imports it into k3s's containerd
#     (the manifests say imagePullPolicy: Never: the image is never pulled);
#  3. makes k8s/secrets.env once, with random passwords, kept in /etc/udaconnect/k8s-secrets.env
#     (the rsync'd checkout is replaced on every `vagrant rsync`);
#  4. runs k8s/sync, deletes the finished Jobs (a Job cannot be changed, only re-created),
#     `kubectl apply -k k8s/`, and waits for the migrations, the backfill and every rollout.
#
# Safe to run again: each step does only what is missing or changed.
set -euo pipefail

src=${UDC_SRC:-/udaconnect}
secrets_keep=/etc/udaconnect/k8s-secrets.env
ns=udaconnect
export KUBECONFIG=/etc/rancher/k3s/k3s.yaml

say() { printf 'provision: %s\n' "$*"; }

install_packages() {
    local missing=() pkg
    for pkg in curl ca-certificates docker.io; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    systemctl enable --now docker >/dev/null
}

install_k3s() {
    if ! command -v k3s >/dev/null 2>&1; then
        say "installing k3s"
        # Traefik is not needed: the Services are NodePorts.
        curl -sfL https://get.k3s.io |
            INSTALL_K3S_EXEC="server --disable traefik --write-kubeconfig-mode 644" sh -
    fi
    say "waiting for the node"
    until kubectl get nodes 2>/dev/null | grep -q ' Ready'; do sleep 2; done
}

build_image() {
    say "building udaconnect:local"
    docker build -q -f "$src/k8s/Dockerfile" -t udaconnect:local "$src" >/dev/null
    say "importing udaconnect:local into k3s"
    docker save udaconnect:local | k3s ctr images import - >/dev/null
}

random_password() { head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c 32; }

ensure_secrets() {
    if [ ! -s "$secrets_keep" ]; then
        say "creating $secrets_keep with random passwords"
        install -d -m 700 "$(dirname "$secrets_keep")"
        (
            umask 077
            grep -E '^[A-Z0-9_]+=' "$src/k8s/secrets.example.env" | cut -d= -f1 |
                while read -r key; do printf '%s=%s\n' "$key" "$(random_password)"; done \
                    >"$secrets_keep"
        )
    fi
    # A key added to the example since: give it a value too.
    local key
    # shellcheck disable=SC2013 # keys are single words
    for key in $(grep -E '^[A-Z0-9_]+=' "$src/k8s/secrets.example.env" | cut -d= -f1); do
        grep -q "^$key=" "$secrets_keep" || printf '%s=%s\n' "$key" "$(random_password)" >>"$secrets_keep"
    done
    install -m 600 "$secrets_keep" "$src/k8s/secrets.env"
}

deploy() {
    "$src/k8s/sync"
    kubectl -n "$ns" delete job udc-migrate udc-backfill --ignore-not-found >/dev/null 2>&1 || true
    say "applying k8s/"
    kubectl apply -k "$src/k8s/"
    say "waiting for the migrations, the backfill and the rollouts"
    kubectl -n "$ns" rollout status statefulset/postgres --timeout=600s
    kubectl -n "$ns" rollout status statefulset/rabbitmq --timeout=600s
    kubectl -n "$ns" wait --for=condition=complete job/udc-migrate --timeout=600s
    kubectl -n "$ns" wait --for=condition=complete job/udc-backfill --timeout=600s
    local d
    for d in udc-writer udc-connector udc-ingest-amqp udc-ingest-http udc-api; do
        kubectl -n "$ns" rollout status "deployment/$d" --timeout=300s
    done
}

install_packages
install_k3s
build_image
ensure_secrets
deploy
kubectl -n "$ns" get pods,svc
say "up: API and page http://localhost:30001 (page also :30000), ingest http://localhost:30002"
