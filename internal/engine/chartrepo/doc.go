// Package chartrepo reads Helm chart repositories for the HelmRepository
// and HelmChart controllers.
//
//   - HTTP repositories: FetchIndex gets <url>/index.yaml within a timeout
//     and a size limit, parses it into a compact Index (chart names sorted,
//     versions newest first), and gives its canonical bytes (the stored
//     artifact) and their digest (the revision). DownloadChart fetches a
//     chart archive named by an index entry, resolving its URL against the
//     repository's, sending credentials to another host only when asked
//     to, and checking the entry's digest.
//   - SecretOptions and TLSFromCertSecret read the Secrets named by
//     secretRef and certSecretRef.
//   - OCI repositories: OCITags lists a chart's versions and PullOCIChart
//     pulls one, through the client of internal/engine/oci.
//   - Cache keeps one compact parsed Index per repository and index
//     revision, shared by every HelmChart of that repository.
//
// Index parsing is done here with sigs.k8s.io/yaml into the package's own
// types, without the Helm SDK, so that this package stays light; charts
// themselves are loaded by internal/engine/chart.
//
// Errors are *Error values naming the URL (never with credentials), the
// chart and the version; they match one of the Err* kinds with errors.Is.
// Resolving a semver range to a version is the caller's (PickVersion in
// internal/engine/chart): this package takes resolved versions.
//
// The package is plain Go: it does not depend on controller-runtime.
package chartrepo
