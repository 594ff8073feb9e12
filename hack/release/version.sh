#!/usr/bin/env bash
# Release guard: the pushed tag must be v<package.json version>, and the operator image the
# manifests run (deploy/base/deployment.yaml, which the bundle and install.yaml carry) must be
# tagged with that version. Prints version=, image= and bundle_image= lines for $GITHUB_OUTPUT;
# exits 1 with the reason otherwise.
#   usage: hack/release/version.sh TAG        e.g. hack/release/version.sh v0.1.0
set -euo pipefail

root="${EHC_REPO_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
if [[ $# -ne 1 ]]; then
  echo "usage: $0 TAG (e.g. v0.1.0)" >&2
  exit 2
fi
tag="$1"

version="$(node -p 'JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")).version' "$root/package.json")"
if [[ "$tag" != "v$version" ]]; then
  echo "release: tag $tag is not v$version, the version in package.json; bump package.json or tag v$version" >&2
  exit 1
fi

image="$(sed -n 's/^ *image: *//p' "$root/deploy/base/deployment.yaml")"
if [[ "$(wc -l <<<"$image")" -ne 1 || -z "$image" ]]; then
  echo "release: expected exactly one image in deploy/base/deployment.yaml, found: ${image:-none}" >&2
  exit 1
fi
if [[ "$image" != *":$version" ]]; then
  echo "release: deploy/base/deployment.yaml runs $image, not tag $version; set the image tag to $version" >&2
  exit 1
fi

echo "version=$version"
echo "image=$image"
echo "bundle_image=${image%:*}-bundle:$version"
