package sourceref

import (
	"strconv"

	"github.com/spf13/pflag"
)

// Flux's flags of artifact downloads, shared by every consumer group of a
// process (kustomize, helm, source-watcher): --artifact-servers, the
// servers besides --storage-adv-addr that artifacts may come from, and
// --http-retry, the retries of a download.
const (
	ArtifactServersFlag = "artifact-servers"
	HTTPRetryFlag       = "http-retry"
)

// DefaultHTTPRetry is --http-retry's default, as Flux's.
const DefaultHTTPRetry = 9

// FetchFlags reads --artifact-servers and --http-retry whichever group
// registered them: Bind registers each only when the flag set has none
// yet, then keeps the one there.
type FetchFlags struct {
	artifactServers, httpRetry *pflag.Flag
}

// Bind finds, or registers, both flags on fs.
func (f *FetchFlags) Bind(fs *pflag.FlagSet) {
	if fs.Lookup(ArtifactServersFlag) == nil {
		fs.StringSlice(ArtifactServersFlag, nil, "servers (host[:port] or URL) artifacts may be downloaded from besides --storage-adv-addr; a source status naming any other is refused")
	}
	f.artifactServers = fs.Lookup(ArtifactServersFlag)
	if fs.Lookup(HTTPRetryFlag) == nil {
		fs.Int(HTTPRetryFlag, DefaultHTTPRetry, "retries of an artifact download")
	}
	f.httpRetry = fs.Lookup(HTTPRetryFlag)
}

// ArtifactServers is --artifact-servers; none before Bind.
func (f *FetchFlags) ArtifactServers() []string {
	if f.artifactServers == nil {
		return nil
	}
	if v, ok := f.artifactServers.Value.(pflag.SliceValue); ok {
		return v.GetSlice()
	}
	return nil
}

// HTTPRetry is --http-retry; DefaultHTTPRetry before Bind.
func (f *FetchFlags) HTTPRetry() int {
	if f.httpRetry == nil {
		return DefaultHTTPRetry
	}
	n, err := strconv.Atoi(f.httpRetry.Value.String())
	if err != nil {
		return DefaultHTTPRetry
	}
	return n
}
