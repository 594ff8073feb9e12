#!/usr/bin/env bash
# Builds the krew archive of the kubectl plugin `etcd-health` into OUT_DIR (default dist/krew):
# the npm package (npm pack, whose prepack builds dist/) with its production dependencies from
# package-lock.json, as regular files only (krew's extraction refuses symlinks, hence no
# node_modules/.bin), and the krew manifest deploy/krew/etcd-health.yaml with the archive's sha256.
# Release: upload the archive to the release named in the manifest's uri, submit the manifest.
# Local install: kubectl krew install --manifest=OUT_DIR/etcd-health.yaml --archive=OUT_DIR/etcd-health-VERSION.tar.gz
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Made after packing: prepack removes dist/, the default's parent.
out="$(realpath -m "${1:-$repo/dist/krew}")"
cd "$repo"
name="$(node -p "require('./package.json').name")"
version="$(node -p "require('./package.json').version")"
staging="$(mktemp -d)"
trap 'rm -rf "$staging"' EXIT

npm pack --pack-destination "$staging" --loglevel=warn >/dev/null
tar -xzf "$staging/$name-$version.tgz" -C "$staging"
# npm sets the bins' execute bits when it installs a package; krew links to them as they are.
(cd "$staging/package" && node -e "for (const bin of new Set(Object.values(require('./package.json').bin))) console.log(bin)" | xargs chmod 0755)
cp package-lock.json "$staging/package/"
(cd "$staging/package" && npm ci --omit=dev --no-bin-links --ignore-scripts --no-audit --no-fund >/dev/null)

mkdir -p "$out"
archive="$out/etcd-health-$version.tar.gz"
# Sorted, with fixed times and owners: the same tree gives the same sha256.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$staging/package" -cf - . | gzip -n >"$archive"
sha256="$(sha256sum "$archive" | cut -d' ' -f1)"
sed -E "s/^( +sha256: ).*/\1$sha256/" deploy/krew/etcd-health.yaml >"$out/etcd-health.yaml"
echo "$archive $sha256"
