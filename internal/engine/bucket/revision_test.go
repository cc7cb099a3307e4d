package bucket

import "testing"

// goldenIndex is a known key/ETag set; the expected revisions below were
// computed outside Go with
//
//	printf 'apps/app.yaml 9b2c...\ndocs/readme.md 6d0b...-2\nz.txt d41d...\n' | sha256sum
//
// i.e. Flux's formula: sorted keys, "<key> <etag>\n" each.
var goldenIndex = Index{Objects: []Object{
	// Out of order on purpose: Revision sorts.
	{Key: "z.txt", ETag: "d41d8cd98f00b204e9800998ecf8427e"},
	{Key: "docs/readme.md", ETag: "6d0bb00954ceb7fbee436bb55a8397a9-2"},
	{Key: "apps/app.yaml", ETag: "9b2cf535f27731c974343645a3985328"},
}}

func TestRevisionGolden(t *testing.T) {
	for algo, want := range map[string]string{
		"sha256": "sha256:460d2bab2a3cba2707021c2494dbdb9b9b049c8aaeec8b18a41950fc456cdd09",
		"sha512": "sha512:166204c86c7098ad3428a2138800d435e9a5510e543bb63045691d10de51e2667553d49a590fa9deb9e28764e451e14572e2853ef72c971fd125f6e01e517d73",
	} {
		if got := Revision(goldenIndex, algo); got != want {
			t.Errorf("Revision(%s) = %s, want %s", algo, got, want)
		}
	}
}

func TestRevisionEmptyIndex(t *testing.T) {
	// No object: the digest of nothing, as Flux gives an empty bucket.
	want := "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got := Revision(Index{}, "sha256"); got != want {
		t.Errorf("Revision(empty) = %s, want %s", got, want)
	}
}

func TestRevisionChangesWithETag(t *testing.T) {
	changed := Index{Objects: append([]Object(nil), goldenIndex.Objects...)}
	changed.Objects[0].ETag = "other"
	if Revision(changed, "sha256") == Revision(goldenIndex, "sha256") {
		t.Error("a changed ETag kept the revision")
	}
}

func TestRevisionUnsupportedAlgo(t *testing.T) {
	if got := Revision(goldenIndex, "md5"); got != "" {
		t.Errorf("Revision(md5) = %q, want empty", got)
	}
	if err := CheckDigestAlgo("md5"); err == nil {
		t.Error("CheckDigestAlgo(md5) accepted it")
	}
	if err := CheckDigestAlgo("sha384"); err != nil {
		t.Errorf("CheckDigestAlgo(sha384): %v", err)
	}
}

func TestIndexLookup(t *testing.T) {
	idx := newIndex(append([]Object(nil), goldenIndex.Objects...))
	if o, ok := idx.Lookup("docs/readme.md"); !ok || o.ETag != "6d0bb00954ceb7fbee436bb55a8397a9-2" {
		t.Errorf("Lookup(docs/readme.md) = %v, %v", o, ok)
	}
	if _, ok := idx.Lookup("docs"); ok {
		t.Error("Lookup(docs) found a directory")
	}
	if idx.Objects[0].Key != "apps/app.yaml" {
		t.Errorf("newIndex did not sort: %v", idx.Objects)
	}
}
