#!/usr/bin/env bash
# Generates deepcopy functions and CRD manifests from the Go types in api/.
# Usage: hack/generate.sh [ROOT]   (ROOT defaults to the repository; the staleness
# test passes a scratch copy). The one place that says how generation is done.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$repo}
controller_gen_version=v0.21.0
cg=$repo/bin/controller-gen

if ! "$cg" --version 2>/dev/null | grep -q "$controller_gen_version"; then
  echo "installing controller-gen $controller_gen_version into bin/" >&2
  GOBIN=$repo/bin go install "sigs.k8s.io/controller-tools/cmd/controller-gen@$controller_gen_version"
fi

cd "$root"
"$cg" object paths=./api/...
rm -rf config/crd/bases
"$cg" crd paths=./api/... output:crd:dir=config/crd/bases
go run ./hack/crdgen config/crd/bases
