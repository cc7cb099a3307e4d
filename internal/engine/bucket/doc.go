// Package bucket is the S3 engine behind the Bucket source: it turns a bucket,
// or a prefix of it, into a directory of files and the revision Flux computes
// for the same objects. It is plain Go over minio-go (no controller-runtime,
// no Kubernetes types): the Bucket controller turns the spec and its Secrets
// into a Config and maps the errors of this package to conditions with the
// predicates in errors.go.
//
// One pass has three steps, so a poll that finds nothing new costs a listing
// and no download:
//
//   - New builds a Client from a Config (endpoint, region, TLS, proxy, static
//     keys, anonymous access or LDAP STS credentials).
//   - Client.Index checks that the bucket exists, reads .sourceignore at the
//     bucket root, lists every page under the prefix, applies the ignore rules
//     and the limits, and refuses keys that cannot be written safely.
//     Revision(index) is then the revision to compare with the stored one.
//   - Client.Fetch downloads the indexed objects into a directory, taking
//     unchanged ones from the previous artifact when it is given, and returns
//     the index actually fetched (the ETags of the GET responses, without the
//     objects deleted in between): its Revision is the artifact's.
package bucket
