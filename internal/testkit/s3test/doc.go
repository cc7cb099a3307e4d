// Package s3test runs a real S3 server for tests: the versitygw gateway
// (bin/versitygw, built on first use by `make bin/versitygw`) over a posix
// directory of the test, plain HTTP or HTTPS with a certificate from
// internal/testkit/testca, with random root keys and a minio-go client to
// make buckets and put, overwrite and delete objects.
//
// Around a Server a test can put:
//   - a CountingProxy, a reverse proxy that counts which objects were
//     listed and downloaded (a no-change poll must do no GET);
//   - a MutualTLSProxy, a TLS front that demands a client certificate,
//     because versitygw itself checks none;
//   - the forward (CONNECT and plain HTTP) proxy of a proxySecretRef, which
//     is gittest.NewHTTPProxy: it works for S3 as it does for Git.
//
// Both reverse proxies forward with the Host header unchanged: SigV4 signs
// it, so the server must see the host the client signed.
//
// Everything listens on 127.0.0.1 and is stopped with the test.
package s3test
