#!/usr/bin/env bash
# Builds the Helm v4 CLI from the Go module proxy, at the version go.mod pins, with its release
# version in the ldflags (as Helm's Makefile sets it), into a cache directory keyed by Helm version,
# Go version and architecture. A warm cache makes this a no-op. Prints the bin directory on its last
# line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
helm_version="$(cd "$here" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" helm.sh/helm/v4)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
bin="$cache_root/helm/${helm_version}-${go_version}-${arch}"

if [[ -x "$bin/helm" ]]; then
  echo "helm $helm_version: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$here"
start=$SECONDS
echo "building helm $helm_version with $go_version (first run only: about 3 minutes on 2 cores)" >&2
mkdir -p "$bin.tmp"
go build -trimpath -buildvcs=false \
  -ldflags "-s -w -buildid= -X helm.sh/helm/v4/internal/version.version=$helm_version -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
  -o "$bin.tmp/helm" helm.sh/helm/v4/cmd/helm
"$bin.tmp/helm" version --short >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "helm built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
