// Package oci is the OCI registry client shared by the OCIRepository
// controller and the `flux push|pull|tag|list|diff artifact` commands.
//
// It speaks the artifact format of Flux: a manifest whose config has the
// media type application/vnd.cncf.flux.config.v1+json, one layer of
// application/vnd.cncf.flux.content.v1.tar+gzip and the annotations
// org.opencontainers.image.source, .revision and .created. It also reads
// other artifacts (a Helm chart, any image) by layer media type.
//
//   - ParseURL reads an oci://host[:port]/path repository address.
//   - KeychainFromDockerConfig, TLSConfigFromSecret and ProxyFromSecret turn
//     the data of the Secrets an OCIRepository names into client options;
//     their errors name the offending key, never a value.
//   - Client.Resolve turns a Selector (digest, semver range, tag or latest)
//     into one manifest digest and the RFC-0005 revision; everything after
//     that is done by digest, so a tag moved during a pass cannot mix
//     content.
//   - Client.Pull reads one layer of a manifest, bounded in size, digest
//     verified, and either unpacks it safely or copies it verbatim.
//   - Client.Push, Client.Tag and Client.List write and list artifacts.
//
// Every call is bounded by Options.Timeout; plain HTTP is used only with
// Options.Insecure, also for loopback and private addresses where
// go-containerregistry would fall back to it by itself. Errors are *Error
// values that name the registry, the repository and the tag or digest, and
// match one of the Err* kinds with errors.Is.
//
// The package is plain Go: it does not depend on controller-runtime.
package oci
