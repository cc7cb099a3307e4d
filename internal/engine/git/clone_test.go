package git

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/testkit/gittest"
)

// refsFixture is a repository with every kind of reference, served over HTTP.
type refsFixture struct {
	repo *gittest.Repo
	srv  *gittest.HTTPServer
	url  string

	master, main1, main2, dev string
	v100, v110, v200rc, v090  string
	annotatedTag              string
	pull                      string
}

func newRefsFixture(t *testing.T, opts gittest.HTTPOptions) *refsFixture {
	t.Helper()
	r := gittest.NewRepo(t)
	f := &refsFixture{repo: r}
	f.master = r.CommitFiles("master", map[string]string{"file.txt": "master"}, "on master")
	f.main1 = r.CommitFiles("main", map[string]string{"file.txt": "main 1"}, "main one")
	f.main2 = r.CommitFiles("main", map[string]string{"file.txt": "main 2"}, "main two\n\nbody")
	f.dev = r.CommitFiles("dev", map[string]string{"file.txt": "dev"}, "on dev")
	f.v090 = r.CommitFiles("rel", map[string]string{"file.txt": "0.9.0"}, "0.9.0")
	r.Tag("v0.9.0", f.v090, false)
	f.v100 = r.CommitFiles("rel", map[string]string{"file.txt": "1.0.0"}, "1.0.0")
	r.Tag("v1.0.0", f.v100, true)
	f.v110 = r.CommitFiles("rel", map[string]string{"file.txt": "1.1.0"}, "1.1.0")
	f.annotatedTag = r.Tag("1.1.0", f.v110, true)
	f.v200rc = r.CommitFiles("rel", map[string]string{"file.txt": "2.0.0-rc.1"}, "rc")
	r.Tag("v2.0.0-rc.1", f.v200rc, false)
	r.Tag("not-a-version", f.v200rc, false)
	f.pull = r.CommitFiles("pr", map[string]string{"file.txt": "pull"}, "pull request")
	r.SetRef("refs/pull/1/head", f.pull)
	r.DeleteRef("refs/heads/pr")
	f.srv = gittest.NewHTTPServer(t, r.Root(), opts)
	f.url = f.srv.RepoURL(r.Name())
	return f
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(data)
}

func TestCloneReferenceKinds(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	tests := []struct {
		name     string
		ref      Reference
		hash     string
		refName  string
		revision string
		content  string
		tag      string
	}{
		{name: "default branch is master", ref: Reference{}, hash: f.master, refName: "master", content: "master"},
		{name: "branch", ref: Reference{Branch: "main"}, hash: f.main2, refName: "main", content: "main 2"},
		{name: "lightweight tag", ref: Reference{Tag: "v0.9.0"}, hash: f.v090, refName: "v0.9.0", content: "0.9.0"},
		{name: "annotated tag", ref: Reference{Tag: "1.1.0"}, hash: f.v110, refName: "1.1.0", content: "1.1.0", tag: "1.1.0"},
		{name: "semver picks highest stable", ref: Reference{SemVer: ">=0.9.0"}, hash: f.v110, refName: "1.1.0", content: "1.1.0", tag: "1.1.0"},
		{name: "semver range", ref: Reference{SemVer: "~1.0"}, hash: f.v100, refName: "v1.0.0", content: "1.0.0", tag: "v1.0.0"},
		{name: "semver prerelease", ref: Reference{SemVer: ">=2.0.0-0"}, hash: f.v200rc, refName: "v2.0.0-rc.1", content: "2.0.0-rc.1"},
		{name: "semver beats tag and branch", ref: Reference{SemVer: "<1.0.0", Tag: "1.1.0", Branch: "main"}, hash: f.v090, refName: "v0.9.0", content: "0.9.0"},
		{name: "tag beats branch", ref: Reference{Tag: "v0.9.0", Branch: "main"}, hash: f.v090, refName: "v0.9.0", content: "0.9.0"},
		{name: "name pull ref", ref: Reference{Name: "refs/pull/1/head"}, hash: f.pull, refName: "refs/pull/1/head", content: "pull"},
		{name: "name branch", ref: Reference{Name: "refs/heads/dev"}, hash: f.dev, refName: "refs/heads/dev", content: "dev"},
		{name: "name annotated tag", ref: Reference{Name: "refs/tags/v1.0.0"}, hash: f.v100, refName: "refs/tags/v1.0.0", content: "1.0.0", tag: "v1.0.0"},
		{name: "name beats semver", ref: Reference{Name: "refs/heads/dev", SemVer: "*"}, hash: f.dev, refName: "refs/heads/dev", content: "dev"},
		{name: "commit alone", ref: Reference{Commit: f.main1}, hash: f.main1, refName: "", revision: "sha1:" + f.main1, content: "main 1"},
		{name: "commit on branch", ref: Reference{Commit: f.main1, Branch: "main"}, hash: f.main1, refName: "main", content: "main 1"},
		{name: "commit beats name", ref: Reference{Commit: f.dev, Name: "refs/heads/main"}, hash: f.dev, refName: "", revision: "sha1:" + f.dev, content: "dev"},
	}
	var client Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			c, err := client.Clone(context.Background(), dir, CloneOptions{URL: f.url, Reference: tt.ref})
			if err != nil {
				t.Fatalf("Clone: %v", err)
			}
			if c.Hash != tt.hash || c.Reference != tt.refName {
				t.Fatalf("got %s %q, want %s %q", c.Hash, c.Reference, tt.hash, tt.refName)
			}
			want := tt.revision
			if want == "" {
				want = tt.refName + "@sha1:" + tt.hash
			}
			if rev, err := c.Revision(); err != nil || rev != want {
				t.Errorf("Revision() = %q, %v; want %q", rev, err, want)
			}
			if got := readFile(t, dir, "file.txt"); got != tt.content {
				t.Errorf("file.txt = %q, want %q", got, tt.content)
			}
			if (c.Tag != nil) != (tt.tag != "") || (c.Tag != nil && c.Tag.Name != tt.tag) {
				t.Errorf("Tag = %+v, want %q", c.Tag, tt.tag)
			}
			if c.Author.Name != gittest.AuthorName || c.Author.Email != gittest.AuthorEmail || c.Author.When.IsZero() {
				t.Errorf("Author = %+v", c.Author)
			}
			if tt.ref.Commit == "" {
				hash, refName, err := client.Resolve(context.Background(), CloneOptions{URL: f.url, Reference: tt.ref})
				if err != nil || hash != c.Hash || refName != c.Reference {
					t.Errorf("Resolve = %s %q %v, Clone gave %s %q", hash, refName, err, c.Hash, c.Reference)
				}
			}
		})
	}
}

func TestCloneIsShallow(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	var client Client
	dir := t.TempDir()
	c, err := client.Clone(context.Background(), dir, CloneOptions{URL: f.url, Reference: Reference{Branch: "main"}})
	if err != nil {
		t.Fatal(err)
	}
	shallow, err := os.ReadFile(filepath.Join(dir, ".git", "shallow"))
	if err != nil || strings.TrimSpace(string(shallow)) != c.Hash {
		t.Fatalf(".git/shallow = %q, %v; want the one commit %s", shallow, err, c.Hash)
	}
	if c.Subject() != "main two" || c.Message != "main two\n\nbody\n" {
		t.Errorf("Subject() = %q, Message = %q", c.Subject(), c.Message)
	}
}

func TestCloneCommitWithoutAndWithSHA1InWant(t *testing.T) {
	for _, allow := range []bool{false, true} {
		f := newRefsFixture(t, gittest.HTTPOptions{AllowReachableSHA1InWant: allow})
		var client Client
		c, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: f.url, Reference: Reference{Commit: f.main1}})
		if err != nil || c.Hash != f.main1 {
			t.Fatalf("allowSHA1=%v: Clone = %v, %v", allow, c, err)
		}
		missing := strings.Repeat("ab", 20)
		_, err = client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: f.url, Reference: Reference{Commit: missing}})
		if !errors.Is(err, ErrReferenceNotFound) || !strings.Contains(err.Error(), missing) {
			t.Fatalf("allowSHA1=%v: missing commit: %v", allow, err)
		}
	}
}

func TestCloneReferenceErrors(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	tests := []struct {
		name    string
		url     string
		ref     Reference
		sparse  []string
		want    error
		message string
	}{
		{name: "missing branch", ref: Reference{Branch: "nope"}, want: ErrReferenceNotFound, message: "branch 'nope' not found"},
		{name: "missing tag", ref: Reference{Tag: "v9"}, want: ErrReferenceNotFound, message: "tag 'v9' not found"},
		{name: "missing name", ref: Reference{Name: "refs/pull/9/head"}, want: ErrReferenceNotFound, message: "ref 'refs/pull/9/head' not found"},
		{name: "semver no match", ref: Reference{SemVer: ">=5.0.0"}, want: ErrReferenceNotFound, message: "no tag matches semver range '>=5.0.0'"},
		{name: "commit not on branch", ref: Reference{Commit: f.dev, Branch: "main"}, want: ErrReferenceNotFound, message: "commit '" + f.dev + "' is not on branch 'main'"},
		{name: "commit on missing branch", ref: Reference{Commit: f.dev, Branch: "gone"}, want: ErrReferenceNotFound, message: "branch 'gone' not found"},
		{name: "short commit", ref: Reference{Commit: "abc123"}, want: ErrInvalidReference, message: "not a full hexadecimal commit hash"},
		{name: "bad semver", ref: Reference{SemVer: "not a range"}, want: ErrInvalidReference, message: "semver range 'not a range'"},
		{name: "name without refs/", ref: Reference{Name: "main"}, want: ErrInvalidReference, message: "must be a full reference"},
		{name: "bad branch name", ref: Reference{Branch: "a..b"}, want: ErrInvalidReference, message: "branch 'a..b'"},
		{name: "missing repository", url: f.srv.RepoURL("nope.git"), want: ErrRepositoryNotFound},
		{name: "file URL", url: "file:///etc", want: ErrInvalidURL, message: `scheme "file" is not supported`},
		{name: "scp-like URL", url: "git@github.com:org/repo.git", want: ErrInvalidURL},
		{name: "no host", url: "https:///repo.git", want: ErrInvalidURL, message: "has no host"},
		{name: "no path", url: "https://example.com", want: ErrInvalidURL, message: "no repository path"},
		{name: "empty URL", url: "", want: ErrInvalidURL, message: "no URL given"},
		{name: "unparsable URL", url: "https://user:secret@exa mple.com/%zz", want: ErrInvalidURL},
		{name: "sparse escape", sparse: []string{"../x"}, want: ErrInvalidReference, message: "inside the repository"},
	}
	var client Client
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := f.url
			if tt.url != "" || tt.want == ErrInvalidURL {
				url = tt.url
			}
			_, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: url, Reference: tt.ref, SparseCheckout: tt.sparse})
			t.Logf("error: %v", err)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("got %v, want %v containing %q", err, tt.want, tt.message)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Fatalf("error leaks a URL password: %v", err)
			}
			if tt.ref.Commit != "" || tt.sparse != nil {
				return
			}
			_, _, rerr := client.Resolve(context.Background(), CloneOptions{URL: url, Reference: tt.ref})
			if !errors.Is(rerr, tt.want) {
				t.Fatalf("Resolve: got %v, want %v", rerr, tt.want)
			}
		})
	}
}

func TestCloneIntoNonEmptyDirectory(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var client Client
	if _, err := client.Clone(context.Background(), dir, CloneOptions{URL: f.url}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("got %v", err)
	}
}

func TestResolveMakesNoPackRequest(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	var client Client
	for _, ref := range []Reference{{}, {Branch: "main"}, {Tag: "1.1.0"}, {SemVer: "1.x"}, {Name: "refs/pull/1/head"}} {
		f.srv.ResetRequests()
		if _, _, err := client.Resolve(context.Background(), CloneOptions{URL: f.url, Reference: ref}); err != nil {
			t.Fatalf("Resolve %s: %v", ref, err)
		}
		if n, all := f.srv.PackRequests(), f.srv.Requests(); n != 0 || len(all) != 1 {
			t.Fatalf("Resolve %s made %d pack requests, %d requests: %+v", ref, n, len(all), all)
		}
	}
	f.srv.ResetRequests()
	if _, err := client.Clone(context.Background(), t.TempDir(), CloneOptions{URL: f.url}); err != nil {
		t.Fatal(err)
	}
	if f.srv.PackRequests() != 1 {
		t.Fatalf("Clone made %d pack requests, want 1", f.srv.PackRequests())
	}
	_, _, err := client.Resolve(context.Background(), CloneOptions{URL: f.url, Reference: Reference{Commit: f.main1, Branch: "main"}})
	if !errors.Is(err, ErrNotResolvable) {
		t.Fatalf("Resolve of a commit: %v", err)
	}
}

func TestResolveSeesNewCommits(t *testing.T) {
	f := newRefsFixture(t, gittest.HTTPOptions{})
	var client Client
	opts := CloneOptions{URL: f.url, Reference: Reference{Branch: "main"}}
	before, _, err := client.Resolve(context.Background(), opts)
	if err != nil || before != f.main2 {
		t.Fatalf("Resolve = %s, %v", before, err)
	}
	next := f.repo.CommitFiles("main", map[string]string{"file.txt": "main 3"}, "three")
	after, _, err := client.Resolve(context.Background(), opts)
	if err != nil || after != next {
		t.Fatalf("Resolve after a push = %s, %v; want %s", after, err, next)
	}
}
