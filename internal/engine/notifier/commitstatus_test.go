package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

const (
	testSHA         = "5f2c3a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"
	testProviderUID = "0c9a6e1f-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
	testKey         = "kustomization/apps/0c9a6e1f"
	testToken       = "tok-3f9a7c1e5b"
)

// statusCase is one commit-status host: its settings against the fake,
// where it lists and posts, and how the fake keeps its statuses.
type statusCase struct {
	typ      string
	address  string // after the fake's http://host:port
	settings func(*Settings)
	postPath string
	listPath string
	// serve routes the list and post calls to a stateful list.
	serve   func(t *testing.T, f *gitFake, c statusCase, l *statusList)
	headers []string
}

// serveList answers the list path with the array (wrapped for Azure) and
// records posts, renaming the state field as the host does.
func serveList(from, to string, wrap bool) func(*testing.T, *gitFake, statusCase, *statusList) {
	return func(t *testing.T, f *gitFake, c statusCase, l *statusList) {
		f.on(http.MethodGet, c.listPath, func(recorded) (int, string) {
			if wrap {
				return http.StatusOK, `{"count":` + itoa(len(l.items)) + `,"value":` + l.json() + `}`
			}
			return http.StatusOK, l.json()
		})
		f.on(http.MethodPost, c.postPath, func(r recorded) (int, string) {
			l.add(t, r, from, to)
			return http.StatusCreated, "{}"
		})
	}
}

// serveOne answers the list path with the newest status under the key
// (Bitbucket's single-status GET), 404 when there is none.
func serveOne(key func(r recorded) string) func(*testing.T, *gitFake, statusCase, *statusList) {
	return func(t *testing.T, f *gitFake, c statusCase, l *statusList) {
		f.on(http.MethodGet, c.listPath, func(r recorded) (int, string) {
			for _, item := range l.items {
				if item["key"] == key(r) {
					data, _ := json.Marshal(item)
					return http.StatusOK, string(data)
				}
			}
			return http.StatusNotFound, `{"error":{"message":"No such build status"}}`
		})
		f.on(http.MethodPost, c.postPath, func(r recorded) (int, string) {
			l.add(t, r, "state", "state")
			return http.StatusNoContent, ""
		})
	}
}

// appliedEvent is the info event of an applied revision.
func appliedEvent() eventv1.Event {
	e := testEvent(eventv1.EventSeverityInfo)
	e.Reason = "ReconciliationSucceeded"
	e.Message = "Applied revision: main@sha1:" + testSHA + ", reconciliation finished in 2.1s, next run in 10m0s"
	e.Metadata["kustomize.toolkit.fluxcd.io/commit_status"] = "update"
	return e
}

func itoa(n int) string { data, _ := json.Marshal(n); return string(data) }

func statusCases() []statusCase {
	cloudKey := bitbucketHost{}.key(testKey)
	return []statusCase{
		{typ: "github", address: "/org/repo", postPath: "/api/v3/repos/org/repo/statuses/" + testSHA,
			listPath: "/api/v3/repos/org/repo/commits/" + testSHA + "/statuses",
			serve:    serveList("state", "state", false), headers: []string{"Authorization", "Accept", "X-GitHub-Api-Version", "Content-Type"}},
		{typ: "gitlab", address: "/group/sub/project.git", postPath: "/api/v4/projects/group%2Fsub%2Fproject/statuses/" + testSHA,
			listPath: "/api/v4/projects/group%2Fsub%2Fproject/repository/commits/" + testSHA + "/statuses",
			serve:    serveList("state", "status", false), headers: []string{"Private-Token", "Content-Type"}},
		{typ: "gitea", address: "/org/repo", postPath: "/api/v1/repos/org/repo/statuses/" + testSHA,
			listPath: "/api/v1/repos/org/repo/commits/" + testSHA + "/statuses",
			serve:    serveList("state", "state", false), headers: []string{"Authorization", "Content-Type"}},
		{typ: "bitbucket", address: "/workspace/repo", settings: func(s *Settings) { s.Token = "user:" + testToken },
			postPath: "/2.0/repositories/workspace/repo/commit/" + testSHA + "/statuses/build",
			listPath: "/2.0/repositories/workspace/repo/commit/" + testSHA + "/statuses/build/" + cloudKey,
			serve:    serveOne(func(recorded) string { return cloudKey }), headers: []string{"Authorization", "Content-Type"}},
		{typ: "bitbucketserver", address: "/bitbucket/scm/PROJ/repo.git",
			postPath: "/bitbucket/rest/api/1.0/projects/PROJ/repos/repo/commits/" + testSHA + "/builds",
			listPath: "/bitbucket/rest/api/1.0/projects/PROJ/repos/repo/commits/" + testSHA + "/builds",
			serve: serveOne(func(r recorded) string {
				q, _ := url.ParseQuery(r.Query)
				return q.Get("key")
			}), headers: []string{"Authorization", "Content-Type", "X-Atlassian-Token"}},
		{typ: "azuredevops", address: "/org/project/_git/repo",
			postPath: "/org/project/_apis/git/repositories/repo/commits/" + testSHA + "/statuses",
			listPath: "/org/project/_apis/git/repositories/repo/commits/" + testSHA + "/statuses",
			serve:    serveList("state", "state", true), headers: []string{"Authorization", "Content-Type"}},
	}
}

func (c statusCase) newNotifier(t *testing.T, f *gitFake) Notifier {
	t.Helper()
	s := Settings{Type: c.typ, Address: f.URL + c.address, Token: testToken, ProviderUID: testProviderUID}
	if c.settings != nil {
		c.settings(&s)
	}
	n, err := New(s)
	if err != nil {
		t.Fatalf("New(%s): %v", c.typ, err)
	}
	return n
}

// Each host gets success on info and failure on error, on the event's SHA
// under the default key, and no second post of an unchanged status.
func TestCommitStatusPosts(t *testing.T) {
	for _, c := range statusCases() {
		t.Run(c.typ, func(t *testing.T) {
			f := newGitFake(t)
			l := &statusList{}
			c.serve(t, f, c, l)
			n := c.newNotifier(t, f)
			ctx := context.Background()

			if err := n.Post(ctx, appliedEvent()); err != nil {
				t.Fatalf("post info: %v", err)
			}
			posts := f.to(http.MethodPost, c.postPath)
			if len(posts) != 1 {
				t.Fatalf("%d posts after the info event, want 1 (requests %v)", len(posts), f.all())
			}
			golden(t, c.typ+"-success", f.normal(posts[0]), c.headers...)

			if err := n.Post(ctx, appliedEvent()); err != nil {
				t.Fatalf("post info again: %v", err)
			}
			if got := len(f.to(http.MethodPost, c.postPath)); got != 1 {
				t.Fatalf("the unchanged status was posted again (%d posts)", got)
			}
			if len(f.to(http.MethodGet, c.listPath)) != 2 {
				t.Errorf("the statuses were not listed before each post")
			}

			if err := n.Post(ctx, testEvent(eventv1.EventSeverityError)); err != nil {
				t.Fatalf("post error: %v", err)
			}
			posts = f.to(http.MethodPost, c.postPath)
			if len(posts) != 2 {
				t.Fatalf("%d posts after the error event, want 2", len(posts))
			}
			golden(t, c.typ+"-failure", f.normal(posts[1]), c.headers...)
		})
	}
}

// A commitStatusExpr's key is used; a failing one posts nothing and never
// falls back to the default key.
func TestCommitStatusExpression(t *testing.T) {
	c := statusCases()[0]
	f := newGitFake(t)
	l := &statusList{}
	c.serve(t, f, c, l)
	s := Settings{Type: "github", Address: f.URL + "/org/repo", Token: testToken, ProviderUID: testProviderUID}
	s.CommitStatus = func(e eventv1.Event) (string, error) { return "deploy/" + e.InvolvedObject.Name, nil }
	n, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent(eventv1.EventSeverityInfo)); err != nil {
		t.Fatal(err)
	}
	if len(l.items) != 1 || l.items[0]["context"] != "deploy/apps" {
		t.Fatalf("statuses %v, want one under deploy/apps", l.items)
	}

	g := newGitFake(t)
	s.Address = g.URL + "/org/repo"
	s.CommitStatus = func(eventv1.Event) (string, error) { return "", errors.New("no such key 'foo'") }
	n, err = New(s)
	if err != nil {
		t.Fatal(err)
	}
	err = n.Post(context.Background(), testEvent(eventv1.EventSeverityInfo))
	var permanent *PermanentError
	if !errors.As(err, &permanent) || !strings.Contains(err.Error(), "no such key 'foo'") || !strings.Contains(err.Error(), "commitStatusExpr") {
		t.Fatalf("error %v, want a permanent error quoting the expression's", err)
	}
	if got := g.all(); len(got) != 0 {
		t.Errorf("%d requests after a failing expression, want none", len(got))
	}
}

// Events that name no commit are refused before any request; a
// Progressing event waits for the outcome.
func TestCommitStatusNoSHA(t *testing.T) {
	f := newGitFake(t)
	n, err := New(Settings{Type: "github", Address: f.URL + "/org/repo", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	for name, metadata := range map[string]map[string]string{
		"no revision":       {"summary": "x"},
		"branch only":       {"kustomize.toolkit.fluxcd.io/revision": "main"},
		"short sha":         {"kustomize.toolkit.fluxcd.io/revision": "main@sha1:5f2c3a9"},
		"unknown algorithm": {"kustomize.toolkit.fluxcd.io/revision": "main@md5:" + testSHA},
		"bad commit key":    {"event.toolkit.fluxcd.io/commit": "HEAD~1"},
	} {
		e := testEvent(eventv1.EventSeverityError)
		e.Metadata = metadata
		err := n.Post(context.Background(), e)
		var permanent *PermanentError
		if !errors.As(err, &permanent) || !strings.Contains(err.Error(), "Kustomization") {
			t.Errorf("%s: error %v, want a permanent error naming the object", name, err)
		}
	}
	e := testEvent(eventv1.EventSeverityInfo)
	e.Reason = progressingReason
	if err := n.Post(context.Background(), e); err != nil {
		t.Errorf("progressing: %v", err)
	}
	if got := f.all(); len(got) != 0 {
		t.Errorf("%d requests, want none", len(got))
	}
}

// The event.toolkit.fluxcd.io/commit metadata names the commit when set.
func TestCommitStatusCommitMetadata(t *testing.T) {
	other := strings.Repeat("ab", 20)
	e := testEvent(eventv1.EventSeverityInfo)
	e.Metadata["event.toolkit.fluxcd.io/commit"] = other
	sha, err := eventSHA(e)
	if err != nil || sha != other {
		t.Fatalf("eventSHA = %q, %v; want %s", sha, err, other)
	}
}

func TestCommitStatusKey(t *testing.T) {
	e := testEvent(eventv1.EventSeverityInfo)
	e.InvolvedObject.Kind, e.InvolvedObject.Name = "HelmRelease", "PodInfo"
	for uid, want := range map[string]string{
		testProviderUID: "helmrelease/podinfo/0c9a6e1f",
		"ABCDEF":        "helmrelease/podinfo/abcdef",
		"":              "helmrelease/podinfo/",
	} {
		if got := CommitStatusKey(e, uid); got != want {
			t.Errorf("CommitStatusKey(%q) = %q, want %q", uid, got, want)
		}
	}
}

func TestRevisionSHA(t *testing.T) {
	sha256 := strings.Repeat("0123456789abcdef", 4)
	for rev, want := range map[string]string{
		"main@sha1:" + testSHA: testSHA,
		"sha1:" + testSHA:      testSHA,
		testSHA:                testSHA,
		"main/" + testSHA:      testSHA,
		"feature/x@sha1:" + strings.ToUpper(testSHA): testSHA,
		"v1.2.3@sha256:" + sha256:                    sha256,
		"main":                                       "",
		"main@sha1:":                                 "",
		"main@sha1:" + testSHA + "x":                 "",
		"":                                           "",
		"sha1:" + strings.Repeat("g", 40):            "",
	} {
		got, ok := revisionSHA(rev)
		if got != want || ok != (want != "") {
			t.Errorf("revisionSHA(%q) = %q, %v; want %q", rev, got, ok, want)
		}
	}
}

func TestDescription(t *testing.T) {
	long := strings.Repeat("é", 200)
	got := description(long, 140)
	if n := len([]rune(got)); n != 140 || !strings.HasSuffix(got, "…") {
		t.Errorf("cut to %d runes: %q", n, got)
	}
	if description(" short ", 140) != "short" {
		t.Errorf("short message changed")
	}
}

// FuzzRevisionSHA: no panic, and a SHA found is hex of a Git hash length
// that reads back the same in every revision format.
func FuzzRevisionSHA(f *testing.F) {
	for _, seed := range []string{"main@sha1:" + testSHA, "sha1:" + testSHA, testSHA, "main/" + testSHA, "@:/", "sha256:" + testSHA} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, rev string) {
		sha, ok := revisionSHA(rev)
		if !ok {
			return
		}
		if (len(sha) != 40 && len(sha) != 64) || strings.Trim(sha, "0123456789abcdef") != "" {
			t.Fatalf("revisionSHA(%q) = %q", rev, sha)
		}
		algo := "sha1"
		if len(sha) == 64 {
			algo = "sha256"
		}
		for _, again := range []string{sha, algo + ":" + sha, "main@" + algo + ":" + sha, "main/" + sha} {
			if got, ok := revisionSHA(again); !ok || got != sha {
				t.Fatalf("revisionSHA(%q) = %q, %v; want %q", again, got, ok, sha)
			}
		}
	})
}
