#!/usr/bin/env bash
# Builds etcd 3.5 (the minor before the 3.6 Kubernetes pins) from the Go module proxy into a cache
# directory keyed by etcd version, Go version and architecture, for the mixed-version tests.
# A warm cache makes this a no-op. Prints the bin directory on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
etcd_version="$(cd "$here" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" go.etcd.io/etcd/server/v3)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
bin="$cache_root/etcd/${etcd_version}-${go_version}-${arch}"

if [[ -x "$bin/etcd" ]]; then
  echo "etcd $etcd_version: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$here"
start=$SECONDS
echo "building etcd $etcd_version with $go_version (first run only: a few minutes on 2 cores)" >&2
mkdir -p "$bin.tmp"
go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$bin.tmp/etcd" go.etcd.io/etcd/server/v3
"$bin.tmp/etcd" --version | head -1 >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "etcd $etcd_version built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
