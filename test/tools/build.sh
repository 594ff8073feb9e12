#!/usr/bin/env bash
# Builds actionlint (the linter of GitHub Actions workflows) from the Go module proxy into a cache
# directory keyed by actionlint version, Go version and architecture. A warm cache makes this a
# no-op. Prints the bin directory on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
actionlint_version="$(cd "$here" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" github.com/rhysd/actionlint)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
bin="$cache_root/actionlint/${actionlint_version}-${go_version}-${arch}"

if [[ -x "$bin/actionlint" ]]; then
  echo "actionlint $actionlint_version: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
cd "$here"
start=$SECONDS
echo "building actionlint $actionlint_version with $go_version (first run only: about a minute on 2 cores)" >&2
mkdir -p "$bin.tmp"
go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/rhysd/actionlint.version=$actionlint_version" \
  -o "$bin.tmp/actionlint" github.com/rhysd/actionlint/cmd/actionlint
"$bin.tmp/actionlint" -version | head -1 >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "actionlint $actionlint_version built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
