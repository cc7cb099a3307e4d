package meta

// Keys of the metadata the source kinds attach to their events (the
// notification controller forwards them). The kinds of other groups keep
// theirs with their API: kustomizev1.RevisionEventKey, helmv2.RevisionEventKey.
const (
	// SourceRevisionEventKey carries the revision of the stored artifact.
	SourceRevisionEventKey = "source.toolkit.fluxcd.io/revision"
	// GarbageCollectionEventKey carries why removing old artifacts failed.
	GarbageCollectionEventKey = "gc"
)
