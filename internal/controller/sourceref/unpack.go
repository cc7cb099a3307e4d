package sourceref

import (
	"context"
	"net/url"
	"os"
	"path"
	"strings"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/reconcile"
)

// Unpacker downloads, verifies and unpacks source artifacts.
type Unpacker struct {
	// Fetcher downloads and verifies artifacts.
	Fetcher *artifact.Fetcher
	// Unpacked, when set, shares unpacked artifacts between the consumers
	// of one source revision; nil unpacks one per pass with Fetcher.
	Unpacked *artifact.Unpacked
	// TempDir is where artifacts are unpacked; "" means the system default.
	TempDir string
	// Storage is the storage server's advertised address
	// (--storage-adv-addr), where an ExternalArtifact must be filed under
	// its own name.
	Storage string
}

// Unpack returns a directory holding src's artifact, valid until the plan
// ends. It first refuses an artifact URL not filed under src; a server
// not allowed stalls (RefusedServer). progress is
// the message written to the status when the artifact has to be
// downloaded; tempPattern names a directory of this pass's own (as
// os.MkdirTemp), when nothing is shared.
func (u *Unpacker) Unpack(ctx context.Context, p *reconcile.Pass, src Source, progress, tempPattern string) (string, error) {
	a := src.GetArtifact()
	if err := CheckArtifactURL(src, u.Storage); err != nil {
		return "", err
	}
	// Unpacked copies are shared per source object, never across sources by
	// digest alone: a forged source status naming another tenant's digest
	// must download (and fail its digest check), not read that tenant's copy.
	key := artifact.SourceKey(KindOf(src), src.GetNamespace(), src.GetName())
	// An artifact another consumer already unpacked is there at once: no
	// status write to say that it is being fetched.
	if u.Unpacked == nil || !u.Unpacked.Ready(key, a.Digest) {
		if err := p.Progress(meta.ProgressingReason, progress); err != nil {
			return "", err
		}
	}
	if u.Unpacked != nil {
		dir, release, err := u.Unpacked.Acquire(ctx, key, a.URL, a.Digest)
		if err != nil {
			return "", RefusedServer(reconcile.Failed(meta.ArtifactFailedReason, "failed to download artifact, error: %w", err), src)
		}
		p.Defer(release)
		return dir, nil
	}
	dir, err := os.MkdirTemp(u.TempDir, tempPattern)
	if err != nil {
		return "", reconcile.Failed(meta.ArtifactFailedReason, "create temporary directory: %w", err)
	}
	p.Defer(func() { _ = os.RemoveAll(dir) })
	if err := u.Fetcher.Fetch(ctx, a.URL, a.Digest, dir); err != nil {
		return "", RefusedServer(reconcile.Failed(meta.ArtifactFailedReason, "failed to download artifact, error: %w", err), src)
	}
	return dir, nil
}

// CheckArtifactURL refuses an artifact URL on the storage server that is
// not filed under the source that names it (<kind>/<namespace>/<name>/):
// the fetcher only talks to the storage server and --artifact-servers, and
// this keeps a forged status from naming another tenant's artifact there.
// Every kind the storage server keeps is checked whatever the host (the
// fetcher pins hosts); an ExternalArtifact, published by another
// controller, may be filed as that controller chooses on its own server,
// but on storage, the server at address storage, only under its own name.
func CheckArtifactURL(src Source, storage string) error {
	kind := KindOf(src)
	if kind == sourcev1.ExternalArtifactKind && (storage == "" || !artifact.OnServer(src.GetArtifact().URL, storage)) {
		return nil
	}
	raw := src.GetArtifact().URL
	u, err := url.Parse(raw)
	if err != nil {
		return reconcile.Failed(meta.ArtifactFailedReason, "artifact URL of %s '%s/%s': %w", kind, src.GetNamespace(), src.GetName(), err)
	}
	want := "/" + artifact.ObjectDir(kind, src.GetNamespace(), src.GetName()) + "/"
	if !strings.HasPrefix(path.Clean(u.Path), want) {
		return reconcile.Failed(meta.ArtifactFailedReason,
			"artifact URL %s is not filed under %s on the storage server: refusing an artifact of another source", raw, want)
	}
	return nil
}
