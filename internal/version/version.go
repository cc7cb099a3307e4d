// Package version holds the Driftless version, stamped at build time with
// -ldflags "-X github.com/driftless/driftless/internal/version.Version=...".
package version

// Version is the release this binary was built from; "dev" when unstamped.
var Version = "dev"
