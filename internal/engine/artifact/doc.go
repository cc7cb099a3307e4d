// Package artifact implements the artifact contract between the source
// controllers that produce artifacts and the controllers that consume them,
// compatible with Flux's source-controller:
//
//   - Storage keeps artifacts under a root directory with the layout
//     <kind>/<namespace>/<name>/<file>, writes them atomically (deterministic
//     tar.gz archives whose digest depends on content alone, or verbatim
//     copies), maintains stable symbolic links such as latest.tar.gz, guards
//     each object with a lock that holds across goroutines and processes, and
//     garbage-collects old artifacts by count and age.
//   - NewHandler serves the storage over HTTP (GET and HEAD only, no listings,
//     no path escape).
//   - Fetcher downloads an artifact with retries, verifies its digest and
//     unpacks it safely, every attempt bounded in time and every download in
//     size and file count, from the artifact servers it is pinned to only.
//   - Unpacked shares unpacked artifacts between the consumers of one source
//     object, keyed by the source and the digest.
//   - The revision helpers format and parse RFC-0005 revision strings
//     ("main@sha1:<hex>", "sha256:<hex>").
//
// The package is plain Go: it does not depend on controller-runtime.
package artifact
