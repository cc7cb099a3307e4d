package chartrepo

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

const indexA = `apiVersion: v1
generated: "2024-01-01T00:00:00Z"
entries:
  zeta:
  - name: zeta
    version: 0.1.0
    urls: [zeta-0.1.0.tgz]
  alpha:
  - name: alpha
    version: 1.2.0
    urls: [alpha-1.2.0.tgz]
    digest: aaaa
  - name: alpha
    version: 1.10.0
    appVersion: "2.0"
    urls: [alpha-1.10.0.tgz]
  - name: alpha
    version: 2.0.0-rc.1
    urls: [alpha-2.0.0-rc.1.tgz]
  - name: alpha
    version: not-semver
    urls: [alpha-x.tgz]
  - name: alpha
    version: 1.2.0+build.5
    urls: [alpha-1.2.0+build.5.tgz]
`

// indexB is indexA's content reordered and formatted differently (JSON
// is YAML too).
const indexB = `{"entries": {"alpha": [
  {"urls": ["alpha-1.2.0+build.5.tgz"], "version": "1.2.0+build.5", "name": "alpha"},
  {"version": "not-semver", "name": "alpha", "urls": ["alpha-x.tgz"]},
  {"name": "alpha", "version": "2.0.0-rc.1", "urls": ["alpha-2.0.0-rc.1.tgz"]},
  {"name": "alpha", "version": "1.10.0", "appVersion": "2.0", "urls": ["alpha-1.10.0.tgz"]},
  {"digest": "aaaa", "name": "alpha", "version": "1.2.0", "urls": ["alpha-1.2.0.tgz"]}],
 "zeta": [{"name": "zeta", "version": "0.1.0", "urls": ["zeta-0.1.0.tgz"]}]},
 "generated": "2024-01-01T00:00:00Z", "apiVersion": "v1"}`

func TestParseIndexSortsAndSkips(t *testing.T) {
	idx, err := ParseIndex("https://charts.example/index.yaml", []byte(indexA))
	if err != nil {
		t.Fatal(err)
	}
	if got := idx.Charts(); !slices.Equal(got, []string{"alpha", "zeta"}) {
		t.Errorf("charts %v", got)
	}
	got, err := idx.Versions("alpha")
	if err != nil {
		t.Fatal(err)
	}
	// Semver order, not text order (1.10.0 > 1.2.0); build metadata does
	// not order, so equal versions go by their text.
	want := []string{"2.0.0-rc.1", "1.10.0", "1.2.0", "1.2.0+build.5"}
	if !slices.Equal(got, want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	if idx.Skipped() != 1 || idx.Len() != 5 {
		t.Errorf("skipped %d len %d, want 1 and 5", idx.Skipped(), idx.Len())
	}
	e, err := idx.Get("alpha", "1.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if e.Digest != "aaaa" || e.URLs[0] != "alpha-1.2.0.tgz" || e.Name != "alpha" {
		t.Errorf("entry %+v", e)
	}
	if e, err := idx.Get("alpha", "v1.10.0"); err != nil || e.AppVersion != "2.0" {
		t.Errorf("semver-equal lookup: %+v %v", e, err)
	}
	if strings.Contains(string(idx.Bytes()), "not-semver") {
		t.Error("the stored index keeps an entry Helm would skip")
	}
}

func TestIndexDigestIsCanonical(t *testing.T) {
	a, err := ParseIndex("u", []byte(indexA))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseIndex("u", []byte(indexB))
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest() != b.Digest() || string(a.Bytes()) != string(b.Bytes()) {
		t.Fatalf("same content, different digests %s %s\n%s\n---\n%s", a.Digest(), b.Digest(), a.Bytes(), b.Bytes())
	}
	if !strings.HasPrefix(a.Digest(), "sha256:") || len(a.Digest()) != len("sha256:")+64 {
		t.Errorf("digest %q", a.Digest())
	}
	// The stored bytes parse back to themselves.
	c, err := ParseIndex("u", a.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if c.Digest() != a.Digest() {
		t.Error("re-parsing the canonical bytes changes the digest")
	}
	changed, err := ParseIndex("u", []byte(strings.Replace(indexA, "0.1.0", "0.1.1", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Digest() == a.Digest() {
		t.Error("a changed index has the same digest")
	}
	compact := a.Compact()
	if compact.Bytes() != nil || compact.Digest() != a.Digest() {
		t.Error("compact copy keeps bytes or loses the digest")
	}
	if v, _ := compact.Versions("zeta"); !slices.Equal(v, []string{"0.1.0"}) {
		t.Errorf("compact versions %v", v)
	}
}

func TestParseIndexBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		kind       error
		msg        string
	}{
		{"html", "<html><body>hello</body></html>", ErrNotYAML, "not a YAML mapping"},
		{"broken", "apiVersion: v1\nentries: [\n", ErrNotYAML, "index is not YAML"},
		{"list", "- a\n- b\n", ErrNotYAML, "not a YAML mapping"},
		{"no apiVersion", "entries: {}\n", ErrInvalidIndex, "no apiVersion"},
		{"entries list", "apiVersion: v1\nentries: [a]\n", ErrInvalidIndex, "entries must map"},
		{"entry scalar", "apiVersion: v1\nentries:\n  x: [3]\n", ErrInvalidIndex, "chart 'x'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIndex("https://charts.example/index.yaml", []byte(tc.data))
			if !errors.Is(err, tc.kind) {
				t.Fatalf("error %v, want kind %v", err, tc.kind)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "https://charts.example/index.yaml") {
				t.Errorf("message %q lacks %q or the URL", err, tc.msg)
			}
		})
	}
}

func TestIndexLookupErrors(t *testing.T) {
	idx, err := ParseIndex("https://charts.example/index.yaml", []byte(indexA))
	if err != nil {
		t.Fatal(err)
	}
	_, err = idx.Get("nope", "1.0.0")
	if !errors.Is(err, ErrChartNotFound) || !IsStalling(err) || !strings.Contains(err.Error(), "no chart named 'nope' found") {
		t.Errorf("missing chart: %v", err)
	}
	if _, err := idx.Versions("nope"); !errors.Is(err, ErrChartNotFound) {
		t.Errorf("versions of a missing chart: %v", err)
	}
	_, err = idx.Get("alpha", "9.9.9")
	if !errors.Is(err, ErrNoVersion) || !strings.Contains(err.Error(), "no 'alpha' chart with version '9.9.9' found") {
		t.Errorf("missing version: %v", err)
	}
	err = NoVersionError(idx.URL(), "x", "9.*")
	if got := err.Error(); !strings.HasPrefix(got, "no 'x' chart with version matching '9.*' found") {
		t.Errorf("range message %q", got)
	}
}

func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(indexA))
	f.Add([]byte(indexB))
	f.Add([]byte("apiVersion: v1\n"))
	f.Add([]byte(helmLayout))
	f.Fuzz(func(t *testing.T, data []byte) {
		idx, err := ParseIndex("u", data)
		if err != nil {
			return
		}
		again, err := ParseIndex("u", idx.Bytes())
		if err != nil {
			t.Fatalf("canonical bytes do not parse: %v", err)
		}
		if again.Digest() != idx.Digest() {
			t.Fatal("canonical bytes are not stable")
		}
		// Cut chart by chart or parsed whole, a document decodes the same.
		if top, blocks, ok := splitDocument(data); ok {
			byBlocks, err1 := decodeBlocks(top, blocks, len(data))
			whole, err2 := decodeYAML(data)
			if err1 == nil && err2 == nil && mustJSON(t, byBlocks) != mustJSON(t, whole) {
				t.Fatalf("cut and whole parses differ:\n%s\n%s", mustJSON(t, byBlocks), mustJSON(t, whole))
			}
		}
	})
}

// helmLayout is an index as `helm repo index` writes it, with what the
// line cutter must carry: comments, block scalars, anchors inside one
// chart, quoted values, a chart with no entries.
const helmLayout = `apiVersion: v1
entries:
  # the first chart
  alpha:
  - annotations:
      category: Test
    apiVersion: v2
    description: |
      A multi-line
        description: not a key
      - not an item
    name: alpha
    urls:
    - https://charts.example/alpha-1.0.0.tgz
    version: 1.0.0
  - &base
    name: alpha
    version: 1.1.0
    urls: ["alpha-1.1.0.tgz"]
  - <<: *base
    version: "1.2.0"
  beta:
  - name: beta
    version: 0.1.0
    home: "https://example.com/a: b"
  empty:
generated: "2024-01-01T00:00:00Z"
serverInfo:
  contextPath: /charts
`

func TestSplitDocumentParsesChartByChart(t *testing.T) {
	top, blocks, ok := splitDocument([]byte(helmLayout))
	if !ok || len(blocks) != 3 {
		t.Fatalf("split: ok %v, %d blocks", ok, len(blocks))
	}
	if !strings.Contains(string(top), "entries: {}") || strings.Contains(string(top), "alpha") || !strings.Contains(string(top), "contextPath") {
		t.Errorf("the document without its entries:\n%s", top)
	}
	byBlocks, err := decodeBlocks(top, blocks, len(helmLayout))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := decodeYAML([]byte(helmLayout))
	if err != nil {
		t.Fatal(err)
	}
	if g, w := mustJSON(t, byBlocks), mustJSON(t, whole); g != w {
		t.Errorf("chart by chart:\n%s\nwhole document:\n%s", g, w)
	}
	idx, err := ParseIndex("u", []byte(helmLayout))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := idx.Versions("alpha"); strings.Join(v, ",") != "1.2.0,1.1.0,1.0.0" {
		t.Errorf("alpha versions %v (the merge key's entry included)", v)
	}
	if e, _ := idx.Get("alpha", "1.2.0"); len(e.URLs) != 1 || e.URLs[0] != "alpha-1.1.0.tgz" {
		t.Errorf("the merged entry %+v", e)
	}

	// Layouts the cutter cannot vouch for fall back to the whole document.
	for name, doc := range map[string]string{
		"document marker": "---\n" + helmLayout,
		"flow entries":    "apiVersion: v1\nentries: {a: [{name: a, version: 1.0.0}]}\n",
		"no entries":      "apiVersion: v1\n",
		"tab":             strings.Replace(helmLayout, "    name: alpha\n    version: 1.1.0", "\tname: alpha\n    version: 1.1.0", 1),
	} {
		if _, _, ok := splitDocument([]byte(doc)); ok {
			t.Errorf("%s: cut into blocks", name)
		}
	}
	// An alias to an anchor of another chart's block: the cut parse fails,
	// the whole document parses it.
	shared := "apiVersion: v1\nentries:\n  a:\n  - &e {name: a, version: 1.0.0}\n  b:\n  - *e\n"
	if _, _, ok := splitDocument([]byte(shared)); !ok {
		t.Fatal("shared anchors: not cut")
	}
	idx, err = ParseIndex("u", []byte(shared))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := idx.Versions("b"); len(v) != 1 {
		t.Errorf("the alias across charts was lost: %v", v)
	}
}

func TestAliasBombIsRefused(t *testing.T) {
	bomb := "apiVersion: v1\na: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n" +
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n" +
		"entries: {}\n"
	_, err := ParseIndex("https://charts.example/index.yaml", []byte(bomb))
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "aliases expand") {
		t.Fatalf("an alias bomb: %v", err)
	}
}

func mustJSON(t *testing.T, d *decoded) string {
	t.Helper()
	js, err := json.Marshal(map[string]any{"top": d.top, "entries": d.entries, "has": d.hasEntries})
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}
