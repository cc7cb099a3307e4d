package generator

// Strategies of a copy operation, as spelled in the API's enum.
const (
	// StrategyOverwrite replaces the destination file (the default).
	StrategyOverwrite = "Overwrite"
	// StrategyMerge deep-merges one YAML document into the destination.
	StrategyMerge = "Merge"
	// StrategyExtract unpacks .tar.gz/.tgz files into the destination directory.
	StrategyExtract = "Extract"
)

// OriginRevisionKey is the metadata key that carries an output's origin
// revision, the one consumers report as lastAppliedOriginRevision.
const OriginRevisionKey = "org.opencontainers.image.revision"

// artifactAlias is the reserved prefix of every destination path.
const artifactAlias = "artifact"

// Source is one input: spec.sources[] joined with its fetched artifact.
type Source struct {
	// Alias is how copy operations name the source ("@Alias/...").
	Alias string
	// Dir is the directory the source's artifact was unpacked into.
	Dir string
	// Revision is the source artifact's revision, used by "revision: @alias"
	// and "originRevision: @alias".
	Revision string
}

// Copy is one spec.artifacts[].copy[] operation.
type Copy struct {
	// From is "@alias/path", where path is a file, a directory or a glob.
	From string
	// To is "@artifact/path"; a trailing "/" makes it a directory.
	To string
	// Exclude lists globs of files not to copy.
	Exclude []string
	// Strategy is Overwrite (empty means Overwrite), Merge or Extract.
	Strategy string
}

// Output is one spec.artifacts[] entry.
type Output struct {
	// Name names the ExternalArtifact; with a pathPattern it may hold
	// {{ .capture }} templates, filled with the lowercased captures (copy
	// paths take them too, in their original case).
	Name string
	// Revision is empty (content hash) or "@alias" (that source's revision).
	Revision string
	// OriginRevision is empty or "@alias": that source's revision goes into
	// the metadata under OriginRevisionKey.
	OriginRevision string
	// Copy is applied in order.
	Copy []Copy
}

// Spec is the part of an ArtifactGenerator's spec this package builds.
type Spec struct {
	// Outputs are the spec.artifacts entries.
	Outputs []Output
	// PathPattern is "@alias/segments" with {capture} segments; when set,
	// every output is built once per matched directory.
	PathPattern string
	// MaxExtractSize bounds the bytes unpacked from each tarball by Extract,
	// against tar and gzip bombs (0: unlimited).
	MaxExtractSize int64
}

// Result is one built output tree.
type Result struct {
	// Name is the output's final name (captures substituted).
	Name string
	// Dir holds the tree, under the tmpDir given to Generate.
	Dir string
	// Revision is "latest@sha256:<hex>" or the named source's revision.
	Revision string
	// Digest is the content hash "sha256:<hex>", whatever the revision.
	Digest string
	// Metadata carries OriginRevisionKey when OriginRevision was set.
	Metadata map[string]string
	// Labels holds the pathPattern captures, lowercased, by capture name.
	Labels map[string]string
}
