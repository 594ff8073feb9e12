#!/usr/bin/env bash
# Builds the node binaries from the Go module proxy into a cache directory keyed by their versions,
# the Go version and the architecture: kubelet, kube-scheduler and kube-controller-manager (the
# control plane's Kubernetes version), containerd v2 with its runc shim and ctr, runc, and the CNI
# plugins bridge, host-local, loopback and portmap; and the pod sandbox image (pause/, a static
# binary in an OCI image layout tar, for `ctr images import`). Each has its own go.mod so that their
# dependency graphs never mix. A warm cache makes this a no-op. Prints the bin directory last.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version() { (cd "$here/$1" && GOTOOLCHAIN=local go list -m -f "{{.Version}}" "$2"); }
k8s_version="$(version kubernetes k8s.io/kubernetes)"
control_plane_version="$(version ../controlplane k8s.io/kubernetes)"
if [[ "$k8s_version" != "$control_plane_version" ]]; then
  echo "test/node/kubernetes pins $k8s_version but the control plane pins $control_plane_version" >&2
  exit 1
fi
containerd_version="$(version containerd github.com/containerd/containerd/v2)"
runc_version="$(version runc github.com/opencontainers/runc)"
cni_version="$(version cni github.com/containernetworking/plugins)"
go_version="$(go env GOVERSION)"
arch="$(go env GOARCH)"
cache_root="${EHC_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/etcd-health-operator}"
key="${k8s_version}-containerd${containerd_version}-runc${runc_version}-cni${cni_version}-${go_version}-${arch}"
bin="$cache_root/node/$key"
# The name test/harness/node.ts gives containerd as its sandbox image.
pause_image="localhost/etcd-health-operator/pause:1"
binaries=(kubelet kube-scheduler kube-controller-manager containerd containerd-shim-runc-v2 ctr runc
  bridge host-local loopback portmap pause-image.tar)

cached=true
for b in "${binaries[@]}"; do [[ -s "$bin/$b" ]] || cached=false; done
if $cached; then
  echo "node binaries: cached in $bin" >&2
  echo "$bin"
  exit 0
fi

# An OCI image layout tar holding one uncompressed layer with /pause, named for containerd by the
# io.containerd.image.name annotation.
build_pause_image() {
  local out="$1" work
  work="$(mktemp -d)"
  mkdir -p "$work/rootfs" "$work/layout/blobs/sha256"
  (cd "$here/pause" && CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags "-s -w" \
    -o "$work/rootfs/pause" .)
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
  blob() { # file -> digest; copies the file into the layout
    local digest
    digest="$(sha256sum "$1" | cut -d" " -f1)"
    cp "$1" "$work/layout/blobs/sha256/$digest"
    echo "$digest"
  }
  local layer config manifest
  layer="$(blob "$work/layer.tar")"
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
    "$arch" "$layer" >"$work/config.json"
  config="$(blob "$work/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config" "$(stat -c %s "$work/config.json")" "$layer" "$(stat -c %s "$work/layer.tar")" >"$work/manifest.json"
  manifest="$(blob "$work/manifest.json")"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$(stat -c %s "$work/manifest.json")" "$arch" "$pause_image" "${pause_image##*:}" >"$work/layout/index.json"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$work/layout/oci-layout"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/layout" -cf "$out/pause-image.tar" .
  rm -rf "$work"
}

export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
# A step whose outputs are already in $bin.tmp (from an interrupted run) is skipped.
mkdir -p "$bin.tmp"
built() { for f in "$@"; do [[ -s "$bin.tmp/$f" ]] || return 1; done; }
start=$SECONDS
# One progress line per 100 compiled packages, so a cold build shows it is alive; compiler errors
# (anything that is not a package path) pass through.
progress() {
  awk '/^[a-zA-Z0-9._~\/-]+$/ { n++; if (n % 100 == 0) printf "    %d packages compiled\n", n > "/dev/stderr"; next }
       { print > "/dev/stderr" }'
}

echo "building the node binaries $key (first run only: about 18 minutes on 2 busy cores)" >&2
echo "  [1/5] kubelet, kube-scheduler, kube-controller-manager $k8s_version" >&2
major="${k8s_version#v}"; major="${major%%.*}"
minor="${k8s_version#v*.}"; minor="${minor%%.*}"
ldflags="-s -w -buildid="
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
built kubelet kube-scheduler kube-controller-manager || (cd "$here/kubernetes" && CGO_ENABLED=0 go build -v -trimpath -buildvcs=false \
  -tags=selinux,notest,grpcnotrace -ldflags "$ldflags" -o "$bin.tmp/" \
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-controller-manager 2>&1 | progress)

echo "  [2/5] containerd $containerd_version ($((SECONDS - start))s elapsed)" >&2
pkg=github.com/containerd/containerd/v2
built containerd containerd-shim-runc-v2 ctr || (cd "$here/containerd" && CGO_ENABLED=0 go build -v -trimpath -buildvcs=false \
  -tags=no_btrfs,no_devmapper,no_zfs \
  -ldflags "-s -w -X $pkg/version.Version=$containerd_version" -o "$bin.tmp/" \
  $pkg/cmd/containerd $pkg/cmd/containerd-shim-runc-v2 $pkg/cmd/ctr 2>&1 | progress)

# runc's nsenter is C, so runc needs cgo, and with seccomp (containerd gives every pod sandbox its
# default profile) libseccomp's headers (Debian's libseccomp-dev).
echo "  [3/5] runc $runc_version ($((SECONDS - start))s elapsed)" >&2
pkg=github.com/opencontainers/runc
built runc || (cd "$here/runc" && CGO_ENABLED=1 go build -trimpath -buildvcs=false -tags=seccomp \
  -ldflags "-s -w -X main.version=${runc_version#v}" -o "$bin.tmp/runc" $pkg)

echo "  [4/5] CNI plugins $cni_version ($((SECONDS - start))s elapsed)" >&2
pkg=github.com/containernetworking/plugins
built bridge host-local loopback portmap || (cd "$here/cni" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$cni_version" \
  -o "$bin.tmp/" $pkg/plugins/main/bridge $pkg/plugins/ipam/host-local \
  $pkg/plugins/main/loopback $pkg/plugins/meta/portmap)

echo "  [5/5] pause image ($((SECONDS - start))s elapsed)" >&2
built pause-image.tar || build_pause_image "$bin.tmp"

"$bin.tmp/kubelet" --version >&2
"$bin.tmp/containerd" --version >&2
"$bin.tmp/runc" --version | sed -n 1p >&2
rm -rf "$bin" && mv "$bin.tmp" "$bin"
echo "node binaries built in $((SECONDS - start))s into $bin" >&2
echo "$bin"
