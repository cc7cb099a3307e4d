// Package generator builds the output trees of an ArtifactGenerator
// (source.extensions.fluxcd.io/v1beta1) from the unpacked artifacts of its
// sources. It is a pure function over directories, with no Kubernetes client,
// so the controller stays thin and every copy rule is table-tested here.
//
// Mapping from the API (flux-api.md §2.8) to this package:
//
//	spec.sources[].alias                  Source.Alias (Dir and Revision come from the fetched artifact)
//	spec.pathPattern                      Spec.PathPattern
//	spec.artifacts[].name                 Output.Name ({{ .capture }} templates with a pathPattern)
//	spec.artifacts[].revision             Output.Revision ("@alias" or empty)
//	spec.artifacts[].originRevision       Output.OriginRevision ("@alias" or empty)
//	spec.artifacts[].copy[].from          Copy.From ("@alias/path-or-glob")
//	spec.artifacts[].copy[].to            Copy.To ("@artifact/path", a trailing "/" names a directory)
//	spec.artifacts[].copy[].exclude       Copy.Exclude
//	spec.artifacts[].copy[].strategy      Copy.Strategy (Overwrite, the default, Merge or Extract)
//
// Copy rules, applied in order, later writes overwriting earlier ones:
//   - "@src/file" to "@artifact/name" writes the file as name; to "@artifact/dir/"
//     (or onto an existing output directory) writes dir/file;
//   - a glob ("*", "?", "[...]" within a segment, "**" across segments) copies
//     every match, keeping its path relative to the glob's literal prefix, under
//     the destination directory; a matched directory brings its whole subtree;
//   - "@src/dir/" (or "@src/dir") copies the directory itself: under
//     "@artifact/to/" it becomes to/dir, under "@artifact/to" it is renamed to;
//   - "@src/dir/**" copies the directory's contents;
//   - exclude globs match the path relative to the source root or to the from
//     prefix; a pattern without "/" matches a file or directory name at any depth.
//
// Every path is confined: spec paths may not hold "..", source reads go
// through os.Root (a link leaving the source is refused), output writes go
// through os.Root on the output directory, and tarballs are unpacked by the
// artifact kit's safe Untar.
package generator
