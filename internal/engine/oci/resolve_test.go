package oci

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/driftless/driftless/internal/testkit/tartest"
)

// pushTags pushes one small Flux artifact per tag and returns their digests.
func pushTags(t *testing.T, c *Client, repo Repository, tags ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, tag := range tags {
		d, err := c.Push(context.Background(), repo, tag, tartest.TarGz(t, tartest.Entry{Name: "tag.txt", Content: tag}), PushOptions{Source: "test", Revision: tag + "@sha1:" + strings.Repeat("0", 40)})
		if err != nil {
			t.Fatalf("push %s: %v", tag, err)
		}
		out[tag] = d
	}
	return out
}

func TestResolve(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("org/app")
	d := pushTags(t, c, repo, "latest", "0.9.0", "1.0.0", "v1.3.0", "1.2.0", "2.0.0-rc.1", "stable")
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		sel  Selector
		tag  string
	}{
		{"default latest", Selector{}, "latest"},
		{"tag", Selector{Tag: "stable"}, "stable"},
		{"semver", Selector{SemVer: ">=1.0.0", Tag: "stable"}, "v1.3.0"},
		{"semver with prereleases", Selector{SemVer: ">=1.0.0-0"}, "2.0.0-rc.1"},
		{"semver filter", Selector{SemVer: "*", SemverFilter: `^\d`}, "1.2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Resolve(ctx, repo, tc.sel)
			if err != nil {
				t.Fatal(err)
			}
			want := Resolved{Tag: tc.tag, Digest: d[tc.tag], Revision: tc.tag + "@" + d[tc.tag]}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
	t.Run("digest wins", func(t *testing.T) {
		got, err := c.Resolve(ctx, repo, Selector{Digest: d["0.9.0"], SemVer: ">=1.0.0", Tag: "stable"})
		if err != nil {
			t.Fatal(err)
		}
		if want := (Resolved{Digest: d["0.9.0"], Revision: d["0.9.0"]}); got != want {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
}

func TestResolveErrors(t *testing.T) {
	reg := startRegistry(t)
	c := insecureClient()
	repo := reg.repo("org/app")
	pushTags(t, c, repo, "1.0.0", "1.2.0", "v1.3.0", "notes")
	unknown := "sha256:" + strings.Repeat("a", 64)
	where := []string{"registry " + reg.host, "repository org/app"}
	for _, tc := range []struct {
		name     string
		repo     Repository
		sel      Selector
		kind     error
		stalling bool
		parts    []string
	}{
		{"no tag", repo, Selector{Tag: "9.9.9"}, ErrTagNotFound, false, []string{`tag "9.9.9"`, "tag not found"}},
		{"no repository", reg.repo("org/none"), Selector{Tag: "1.0.0"}, ErrTagNotFound, false, []string{"repository org/none", "the repository does not exist"}},
		{"no digest", repo, Selector{Digest: unknown}, ErrDigestNotFound, false, []string{`digest "` + unknown + `"`}},
		{"no match", repo, Selector{SemVer: ">=2.0.0"}, ErrNoMatch, false, []string{`semver range ">=2.0.0"`, "4 tags seen, 3 of them versions, the highest v1.3.0"}},
		{"no match filtered", repo, Selector{SemVer: ">=1.0.0", SemverFilter: "^v2"}, ErrNoMatch, false, []string{`0 versions matching the filter "^v2"`}},
		{"bad range", repo, Selector{SemVer: "one"}, ErrInvalidSelector, true, []string{`semver range "one"`, "invalid semver range"}},
		{"bad filter", repo, Selector{SemVer: "*", SemverFilter: "(x"}, ErrInvalidSelector, true, []string{"invalid semverFilter regular expression"}},
		{"bad tag", repo, Selector{Tag: "a b"}, ErrInvalidSelector, true, []string{`tag "a b"`, "not a valid tag"}},
		{"bad digest", repo, Selector{Digest: "sha256:xyz"}, ErrInvalidSelector, true, []string{"want <algorithm>:<hex>"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := reg.requests.Load()
			_, err := c.Resolve(context.Background(), tc.repo, tc.sel)
			e := wantKind(t, err, tc.kind, append(tc.parts, where[0])...)
			if e.Stalling() != tc.stalling || IsStalling(err) != tc.stalling {
				t.Errorf("stalling = %v, want %v", e.Stalling(), tc.stalling)
			}
			if tc.stalling && reg.requests.Load() != before {
				t.Errorf("an invalid selector reached the registry")
			}
		})
	}
}

// pageTags serves the tag list in pages of size, each in reverse order,
// linked with Link headers, as registries that neither sort nor return
// everything at once.
func pageTags(size int, pages *atomic.Int64) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/tags/list") {
				h.ServeHTTP(w, r)
				return
			}
			pages.Add(1)
			all := httptest.NewRecorder()
			h.ServeHTTP(all, httptest.NewRequest(http.MethodGet, r.URL.Path, nil))
			var body struct {
				Name string   `json:"name"`
				Tags []string `json:"tags"`
			}
			if err := json.Unmarshal(all.Body.Bytes(), &body); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			slices.Sort(body.Tags)
			if last := r.URL.Query().Get("last"); last != "" {
				i, _ := slices.BinarySearch(body.Tags, last)
				for i < len(body.Tags) && body.Tags[i] <= last {
					i++
				}
				body.Tags = body.Tags[i:]
			}
			if len(body.Tags) > size {
				body.Tags = body.Tags[:size]
				next := url.Values{"last": {body.Tags[size-1]}, "n": {fmt.Sprint(size)}}
				w.Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, r.URL.Path, next.Encode()))
			}
			slices.Reverse(body.Tags)
			_ = json.NewEncoder(w).Encode(body)
		})
	}
}

func TestResolvePagination(t *testing.T) {
	var pages atomic.Int64
	reg := startRegistry(t, pageTags(2, &pages))
	c := insecureClient()
	repo := reg.repo("paged")
	d := pushTags(t, c, repo, "0.1.0", "0.2.0", "0.10.0", "1.0.0", "1.1.0", "a", "z")
	pages.Store(0)
	got, err := c.Resolve(context.Background(), repo, Selector{SemVer: "<1.1.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Tag != "1.0.0" || got.Digest != d["1.0.0"] {
		t.Errorf("got %+v, want 1.0.0", got)
	}
	if n := pages.Load(); n != 4 {
		t.Errorf("%d pages read, want 4 (7 tags, 2 a page)", n)
	}
	listed, err := c.List(context.Background(), repo, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, l := range listed {
		tags = append(tags, l.Tag)
	}
	if got, want := strings.Join(tags, " "), "0.1.0 0.10.0 0.2.0 1.0.0 1.1.0 a z"; got != want {
		t.Errorf("listed %s, want %s", got, want)
	}
}

// pagesElsewhere links the tag list to another host.
func pagesElsewhere(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			w.Header().Set("Link", `<http://elsewhere.example/v2/x/tags/list?last=a>; rel="next"`)
		}
		h.ServeHTTP(w, r)
	})
}

func TestResolvePaginationStaysOnTheRegistry(t *testing.T) {
	reg := startRegistry(t, pagesElsewhere)
	c := insecureClient()
	repo := reg.repo("app")
	pushTags(t, c, repo, "1.0.0")
	_, err := c.Resolve(context.Background(), repo, Selector{SemVer: "*"})
	wantKind(t, err, ErrRegistry, "the next page link points away from the registry")
}

// noHeadDigest hides the digest from HEAD answers when on and counts
// manifest GETs.
func noHeadDigest(on *atomic.Bool, gets *atomic.Int64) wrapper {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if on.Load() && strings.Contains(r.URL.Path, "/manifests/") {
				switch r.Method {
				case http.MethodHead:
					w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
					w.WriteHeader(http.StatusOK)
					return
				case http.MethodGet:
					gets.Add(1)
				}
			}
			h.ServeHTTP(w, r)
		})
	}
}

func TestResolveFallsBackToGet(t *testing.T) {
	var (
		on   atomic.Bool
		gets atomic.Int64
	)
	reg := startRegistry(t, noHeadDigest(&on, &gets))
	c := insecureClient()
	repo := reg.repo("app")
	d := pushTags(t, c, repo, "1.0.0")
	on.Store(true)
	got, err := c.Resolve(context.Background(), repo, Selector{Tag: "1.0.0"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != d["1.0.0"] || gets.Load() != 1 {
		t.Errorf("got %+v after %d GETs, want %s after one", got, gets.Load(), d["1.0.0"])
	}
}
