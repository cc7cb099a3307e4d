// Package ignore decides which files of a source tree are left out of its
// artifact, with the rules Flux's source-controller applies:
//
//   - Patterns use the .gitignore format and are matched with go-git's
//     gitignore matcher: the last matching pattern wins, a leading "!" negates,
//     a trailing "/" matches directories only, and a pattern that matches a
//     directory also matches everything below it.
//   - The version-control files (.git/, .gitignore, .gitmodules,
//     .gitattributes) are always excluded, with the lowest priority, so a
//     negation can still bring them back.
//   - Every .sourceignore file in the tree (the root and any subdirectory,
//     never inside .git) contributes its patterns, relative to its own
//     directory; deeper files come later and so take precedence.
//   - The patterns of spec.ignore come last, relative to the root, and so
//     overrule the .sourceignore files.
//   - The other default exclusions (images and archives, CI configuration,
//     .goreleaser.yml, .sops.yaml, .flux.yaml) apply only while neither the
//     .sourceignore files nor spec.ignore yield a single pattern: any pattern
//     from either replaces them, as in Flux (an empty or comment-only
//     spec.ignore therefore keeps them).
package ignore
