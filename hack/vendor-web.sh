#!/usr/bin/env bash
# Vendors the web UI's only JavaScript, htmx and its server-sent-events
# extension, into internal/web/static/vendor/ with their LICENSE files and a
# SHA256SUMS that a unit test checks the embedded bytes against. Run it by
# hand to change a version and commit the result: builds and CI use the
# committed files and never need Node (this script needs npm only for
# `npm pack`, which downloads a package's tarball without installing it).
# Usage: hack/vendor-web.sh
set -euo pipefail

htmx_version=2.0.11
sse_version=2.2.4

repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/internal/web/static/vendor
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# unpack PACKAGE@VERSION DIR: npm pack into the temp dir, then untar into DIR.
unpack() {
  local spec=$1 dir=$tmp/$2
  mkdir -p "$dir"
  local tgz
  tgz=$(cd "$tmp" && npm pack --silent "$spec" | tail -n 1)
  tar -xzf "$tmp/$tgz" -C "$dir"
  echo "$dir/package"
}

htmx=$(unpack "htmx.org@$htmx_version" htmx)
sse=$(unpack "htmx-ext-sse@$sse_version" sse)

mkdir -p "$out"
rm -f "$out"/*
cp "$htmx/dist/htmx.min.js" "$out/htmx.min.js"
cp "$htmx/LICENSE" "$out/htmx.LICENSE"
cp "$sse/dist/sse.min.js" "$out/sse.min.js"
cp "$sse/LICENSE" "$out/sse.LICENSE"

cd "$out"
sha256sum htmx.LICENSE htmx.min.js sse.LICENSE sse.min.js > SHA256SUMS
echo "vendored htmx.org@$htmx_version and htmx-ext-sse@$sse_version into ${out#"$repo"/}" >&2
