package imageupdate

import "strings"

// SplitRef splits an image reference as written in a manifest into its
// name, tag and digest: "host:5000/team/app:1.2@sha256:…" gives
// "host:5000/team/app", "1.2", "sha256:…". A missing part is empty; a
// port is never taken for a tag. The automation's commit template uses it
// to show each changed image's name and old and new tags.
func SplitRef(ref string) (name, tag, digest string) {
	name = ref
	if i := strings.IndexByte(name, '@'); i >= 0 {
		name, digest = name[:i], name[i+1:]
	}
	slash := strings.LastIndexByte(name, '/')
	if i := strings.LastIndexByte(name, ':'); i > slash {
		name, tag = name[:i], name[i+1:]
	}
	return name, tag, digest
}
