// Package ocitest runs the real OCI registry for tests: distribution's
// `registry` (bin/registry, v3.1.2), started per test or per package on
// 127.0.0.1:<free port> from a configuration it writes, with storage in a
// temporary directory. Variants: plain HTTP, HTTPS from a test CA, HTTPS
// requiring a client certificate, basic auth from a bcrypt htpasswd, and
// bearer tokens from a token server in the test process (the flow public
// registries use). It also builds the real crane and cosign CLIs.
//
//	func TestPull(t *testing.T) {
//		reg := ocitest.Start(t, ocitest.Options{Auth: ocitest.BasicAuth, TLS: true})
//		secret := reg.DockerConfigJSON() // .dockerconfigjson
//		ca := reg.CAPEM                  // ca.crt
//		ref := reg.Ref("app/manifests") + ":1.0.0"
//		...
//	}
//
// For one registry per package, call New in TestMain and Close after
// m.Run (print Log when the run failed).
//
// Known behaviour of bin/registry: it pages tags with a `Link` header and
// has no referrers API, so cosign's bundles come by the `sha256-<hex>`
// tag. Set OCITEST_REGISTRY_BIN to run another registry with the same
// configuration format, such as Debian's docker-registry 2.8 (which ignores
// `n` and lists tags unsorted).
//
// The binaries are built by `make bin/registry`, `make bin/crane` and
// `make bin/cosign` (`go install pkg@version` outside go.mod) the first
// time a test asks for them, under a file lock so that test packages run in
// parallel build each once; cosign takes minutes on a cold build cache, so
// only tests that run cosign call CosignBinary.
package ocitest
