#!/usr/bin/env bash
# Builds olm-validate (main.go: the operator-framework bundle validators) from the Go module proxy
# into a cache directory keyed by the operator-framework/api version, Go version and architecture.
# A warm cache makes this a no-op. Prints the bin directory on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
api_version="$(cd "$here" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" github.com/operator-framework/api)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
# The program is ours, so its source is part of the key: an edit to main.go rebuilds it.
source_hash="$(cat "$here/main.go" "$here/go.sum" | sha256sum | cut -c1-12)"
bin="$cache_root/olm-validate/${api_version}-${go_version}-${arch}-${source_hash}"

if [[ -x "$bin/olm-validate" ]]; then
  echo "olm-validate ($api_version): cached in $bin" >&2
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$here"
start=$SECONDS
echo "building olm-validate with operator-framework/api $api_version and $go_version (first run only: a few minutes on 2 cores)" >&2
mkdir -p "$bin.tmp"
go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$bin.tmp/olm-validate" .
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "olm-validate built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
