#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd (the version Kubernetes pins) from the Go module proxy,
# with real version ldflags, into a cache directory keyed by Kubernetes version, Go version and
# architecture. A warm cache makes this a no-op. Prints the bin directory on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
k8s_version="$(cd "$here" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" k8s.io/kubernetes)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
bin="$cache_root/controlplane/${k8s_version}-${go_version}-${arch}"

if [[ -x "$bin/kube-apiserver" && -x "$bin/kubectl" && -x "$bin/etcd" ]]; then
  echo "control plane $k8s_version: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
mkdir -p "$bin.tmp"
major="${k8s_version#v}"; major="${major%%.*}"
minor="${k8s_version#v*.}"; minor="${minor%%.*}"
ldflags="-s -w -buildid="
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

cd "$here"
start=$SECONDS
echo "building the control plane $k8s_version with $go_version (first run only: about 7 minutes on 2 cores)" >&2
echo "  [1/3] downloading modules" >&2
go mod download -x 2>&1 | grep -c '^# get' >/dev/null || true
echo "  [2/3] kube-apiserver + kubectl ($((SECONDS - start))s elapsed)" >&2
go build -v -trimpath -buildvcs=false -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" \
  -o "$bin.tmp/" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl 2>&1 \
  | awk '{ n++; if (n % 200 == 0) { printf "    %d packages compiled\n", n > "/dev/stderr" } }'
echo "  [3/3] etcd ($((SECONDS - start))s elapsed)" >&2
go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$bin.tmp/etcd" go.etcd.io/etcd/server/v3
"$bin.tmp/kube-apiserver" --version >&2
"$bin.tmp/etcd" --version | head -1 >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "control plane built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
