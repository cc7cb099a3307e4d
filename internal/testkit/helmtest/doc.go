// Package helmtest is the Helm test kit: charts a test writes itself
// (Chart), packaged with the Helm SDK and indexed with the SDK's repository
// index code, served by a chart repository in the test process (Repository:
// plain HTTP or TLS from a testca CA, basic auth, client certificates, a
// second host for absolute chart URLs, a stalling mode), pushed to an
// ocitest registry as `helm push` lays a chart out (PushOCI) and signed with
// cosigntest. No chart is downloaded from anywhere.
//
// The real `helm` CLI the tests cross-check against is bin/helm, built from
// helm.sh/helm/v4/cmd/helm at the version go.mod pins by `make bin/helm`
// (HelmBinary builds it on demand, as ocitest builds its tools).
package helmtest
