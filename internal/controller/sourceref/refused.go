package sourceref

import (
	"errors"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/engine/artifact"
	"github.com/driftless/driftless/internal/reconcile"
)

// RefusedServer turns a download refused because the artifact's server (or
// a redirect's) is not an allowed one into a stall that names the source,
// the host and the flag that would allow it: the fetcher's own message
// lists the allowed servers but not how to add one, and retrying cannot
// help until the source's status or the controller's flags change (the
// consumer's watch on sources brings it back on a new status). Any other
// error is returned as it is.
func RefusedServer(err error, src Source) error {
	var pinned *artifact.URLNotAllowedError
	if !errors.As(err, &pinned) {
		return err
	}
	return reconcile.Stalling(meta.ArtifactFailedReason,
		"the artifact of %s '%s/%s' is refused: %w; the controller downloads only from --storage-adv-addr and --artifact-servers: add %s to --artifact-servers if that server is trusted, or publish the artifact on an allowed one",
		KindOf(src), src.GetNamespace(), src.GetName(), pinned, pinned.Host)
}
