#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine, skipping whatever is
# already there: Debian packages, npm packages, and the control plane (kube-apiserver, kubectl,
# etcd 3.6), etcd 3.5 and the node (kubelet, containerd, runc, CNI plugins) built from the Go module proxy
# and cached by version outside the repository.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_packages=(etcd-server etcd-client prometheus prometheus-node-exporter strace lua5.4 openssl)
# The image test: buildah builds the Dockerfile daemonless, busybox is the build stand-in's shell,
# and a containerd of the test's own runs the result with runc (the system's is never used).
apt_packages+=(buildah busybox-static containerd runc)
# The node suite: runc (test/node/build.sh) needs cgo and seccomp; its harness deletes its bridge
# with iproute2.
apt_packages+=(gcc libc6-dev libseccomp-dev iproute2)
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]} from Debian" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian may start the packaged services; the harness runs its own, so stop the system ones.
for service in etcd prometheus prometheus-node-exporter; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" || true
  fi
done

# A linked node_modules (a git worktree's) belongs to another checkout: npm ci would empty it.
if [[ ! -L node_modules ]] && [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: npm ci" >&2
  # A registry mirror that does not serve some optional platform packages (e.g. jest's
  # @unrs/resolver-binding-* for other systems) makes `npm ci` refuse the lock file, which lists
  # them; `npm install --no-save` installs the same locked versions and skips what it cannot get.
  npm ci --no-audit --no-fund >&2 || npm install --no-save --no-audit --no-fund >&2
fi
bash test/controlplane/build.sh >/dev/null
# etcd 3.5 for the mixed-version cluster test (test/faults/shapes.it.ts).
bash test/etcd-3.5/build.sh >/dev/null
# Helm v4 for the chart's tests (test/deploy/chart.it.ts, test/node/install.it.ts).
bash test/helm/build.sh >/dev/null
# The node suite's kubelet, containerd, runc and CNI plugins (a cold build takes about 18 minutes).
bash test/node/build.sh >/dev/null
# The release checks: the operator-framework bundle validators and actionlint.
bash test/olm/build.sh >/dev/null
bash test/tools/build.sh >/dev/null
