#!/usr/bin/env bash
# Builds the localcluster binary: ./build.sh OUTPUT
#
# The Kubernetes components report the version stamped here. Built plainly
# from the module they report v0.0.0-master, and clients that check the
# server version refuse that. The version and the build date are those of
# the k8s.io/kubernetes module this go.mod requires, so they change only
# with it; the module proxy does not record upstream's commit hash.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 OUTPUT" >&2
	exit 2
fi
out=$1
case $out in
/*) ;;
*) out="$PWD/$out" ;;
esac

cd "$(dirname "${BASH_SOURCE[0]}")"

read -r k8s_version k8s_date < <(go list -m \
	-f '{{.Version}} {{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' \
	k8s.io/kubernetes)
if [[ ! $k8s_version =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+ ]]; then
	echo "$0: unexpected k8s.io/kubernetes version '$k8s_version'" >&2
	exit 1
fi
major=${BASH_REMATCH[1]}
minor=${BASH_REMATCH[2]}

pkg=k8s.io/component-base/version
ldflags=(
	-s -w # no symbol table or DWARF: a much smaller binary; stack traces stay readable
	"-X $pkg.gitVersion=$k8s_version"
	"-X $pkg.gitMajor=$major"
	"-X $pkg.gitMinor=$minor"
	"-X $pkg.gitCommit=0000000000000000000000000000000000000000"
	"-X $pkg.gitTreeState=clean"
	"-X $pkg.buildDate=${k8s_date:-1970-01-01T00:00:00Z}"
)

go build -trimpath -ldflags "${ldflags[*]}" -o "$out" .
