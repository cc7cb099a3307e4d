package notifier

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

func TestParseRepositoryURL(t *testing.T) {
	for address, want := range map[string]string{
		"https://github.com/org/repo":                          "https://github.com/org/repo",
		"https://github.com/org/repo.git":                      "https://github.com/org/repo",
		"https://GitHub.com/org/repo/":                         "https://github.com/org/repo",
		"http://127.0.0.1:3000/org/repo":                       "http://127.0.0.1:3000/org/repo",
		"https://gitlab.com/group/sub/sub2/project":            "https://gitlab.com/group/sub/sub2/project",
		"https://dev.azure.com/org/proj/_git/repo":             "https://dev.azure.com/org/proj/_git/repo",
		"https://bitbucket.example/scm/PROJ/repo.git":          "https://bitbucket.example/scm/PROJ/repo",
		"https://[::1]:8443/a_b/c-d.e":                         "https://[::1]:8443/a_b/c-d.e",
		"https://github.com/org/../admin":                      "",
		"https://github.com/org/./repo":                        "",
		"https://github.com/org/%2e%2e/repo":                   "",
		"https://github.com/org%2Frepo/x":                      "",
		"https://github.com/org/repo?per_page=1":               "",
		"https://github.com/org/repo?":                         "",
		"https://github.com/org/repo#readme":                   "",
		"https://user:pass@github.com/org/repo":                "",
		"https://github.com/org//repo":                         "",
		"https://github.com/org/re po":                         "",
		"https://github.com/org/repo\\..\\x":                   "",
		"ftp://github.com/org/repo":                            "",
		"git@github.com:org/repo.git":                          "",
		"https:///org/repo":                                    "",
		"https://github.com":                                   "",
		"https://github.com/" + strings.Repeat("a/", 30) + "b": "",
		"":         "",
		"org/repo": "",
	} {
		r, err := parseRepositoryURL(address)
		if want == "" {
			if err == nil {
				t.Errorf("parseRepositoryURL(%q) = %v, want an error", address, r)
			} else if strings.Contains(err.Error(), address) && address != "" {
				t.Errorf("error %q quotes the address", err)
			}
			continue
		}
		if err != nil || r.String() != want {
			t.Errorf("parseRepositoryURL(%q) = %q, %v; want %q", address, r.String(), err, want)
		}
	}
}

// Each type refuses an address of the wrong shape, naming the field and
// the shape it wants; one from the Secret is not quoted.
func TestGitAddressShapes(t *testing.T) {
	for typ, bad := range map[string]string{
		"github":                    "https://github.com/org",
		"githubdispatch":            "https://github.com/org/repo/extra",
		"githubpullrequestcomment":  "https://github.com/org/repo/pulls/1",
		"gitea":                     "https://gitea.example/org/../repo",
		"giteapullrequestcomment":   "https://gitea.example/org",
		"gitlab":                    "https://gitlab.com/project",
		"gitlabmergerequestcomment": "https://gitlab.com/g/p?private_token=x",
		"bitbucket":                 "https://bitbucket.org/ws",
		"bitbucketserver":           "https://bitbucket.example/projects/PROJ/repos/repo",
		"azuredevops":               "https://dev.azure.com/org/proj/repo",
	} {
		_, err := New(Settings{Type: typ, Address: bad, Token: "user:" + testToken})
		var permanent *PermanentError
		if !errors.As(err, &permanent) || !strings.Contains(err.Error(), "spec.address") || !strings.Contains(err.Error(), "want ") {
			t.Errorf("%s %s: error %v, want a permanent error naming spec.address and the shape", typ, bad, err)
		}
		_, err = New(Settings{Type: typ, Address: bad + "/secret-path-x/..", AddressFromSecret: true, Token: "user:" + testToken})
		if err == nil || strings.Contains(err.Error(), "secret-path-x") || !strings.Contains(err.Error(), "the Secret's address") {
			t.Errorf("%s from the Secret: error %v quotes the address or does not name the key", typ, err)
		}
	}
}

// Each type refuses to start without the credentials it needs.
func TestGitCredentialsRequired(t *testing.T) {
	for typ, address := range map[string]string{
		"github": "https://github.com/org/repo", "githubdispatch": "https://github.com/org/repo",
		"gitlab": "https://gitlab.com/g/p", "gitea": "https://gitea.example/o/r",
		"bitbucket": "https://bitbucket.org/w/r", "bitbucketserver": "https://bb.example/scm/P/r.git",
		"azuredevops": "https://dev.azure.com/o/p/_git/r", "giteapullrequestcomment": "https://gitea.example/o/r",
	} {
		_, err := New(Settings{Type: typ, Address: address})
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("%s without a token: %v", typ, err)
		}
	}
	if _, err := New(Settings{Type: "bitbucket", Address: "https://bitbucket.org/w/r", Token: "no-colon"}); err == nil {
		t.Errorf("bitbucket took a token without <username>:")
	}
	if _, err := New(Settings{Type: "bitbucket", Address: "https://bitbucket.org/w/r", Username: "u", Token: "app-pass"}); err != nil {
		t.Errorf("bitbucket with username and token: %v", err)
	}
	if _, err := New(Settings{Type: "bitbucketserver", Address: "https://bb.example/scm/P/r.git", Username: "u", Password: "p"}); err != nil {
		t.Errorf("bitbucketserver with username and password: %v", err)
	}
}

// The hosts' public APIs: github.com's and bitbucket.org's own API hosts.
func TestGitPublicAPIs(t *testing.T) {
	api, err := newGitHubAPI(Settings{Type: "github", Address: "https://github.com/org/repo", Token: testToken})
	if err != nil || api.repoURL("/statuses/x") != "https://api.github.com/repos/org/repo/statuses/x" {
		t.Errorf("github.com API %v, %v", api, err)
	}
	for address, want := range map[string]string{
		"https://dev.azure.com/org/proj/_git/repo":       "https://dev.azure.com/org/proj/_apis/git/repositories/repo",
		"https://org.visualstudio.com/proj/_git/repo":    "https://org.visualstudio.com/proj/_apis/git/repositories/repo",
		"https://tfs.example/DefaultCollection/p/_git/r": "https://tfs.example/DefaultCollection/p/_apis/git/repositories/r",
	} {
		n, err := New(Settings{Type: "azuredevops", Address: address, Token: testToken})
		if err != nil || n.(*statusNotifier).host.(azureDevOpsHost).repo != want {
			t.Errorf("azuredevops %s: %v, %v; want %s", address, n, err, want)
		}
	}
	if _, err := New(Settings{Type: "azuredevops", Address: "https://dev.azure.com/proj/_git/repo", Token: testToken}); err == nil {
		t.Errorf("dev.azure.com without organisation accepted")
	}
	n, err := New(Settings{Type: "bitbucket", Address: "https://bitbucket.org/ws/repo.git", Token: "u:p"})
	if err != nil || n.(*statusNotifier).host.(bitbucketHost).repo != "https://api.bitbucket.org/2.0/repositories/ws/repo" {
		t.Errorf("bitbucket.org API %v, %v", n, err)
	}
}

// A host's error answer quoting the token does not carry it into the error.
func TestGitErrorsScrubToken(t *testing.T) {
	for _, c := range statusCases() {
		t.Run(c.typ, func(t *testing.T) {
			f := newGitFake(t)
			answer := `{"message":"Bad credentials: ` + testToken + `"}`
			f.answer(http.MethodGet, c.listPath, http.StatusUnauthorized, answer)
			f.answer(http.MethodPost, c.postPath, http.StatusUnauthorized, answer)
			err := c.newNotifier(t, f).Post(context.Background(), testEvent(eventv1.EventSeverityError))
			var status *StatusError
			if !errors.As(err, &status) || status.Code != http.StatusUnauthorized {
				t.Fatalf("error %v, want the 401", err)
			}
			if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), "***") {
				t.Errorf("error %q carries the token", err)
			}
			if retry, _ := Retryable(err); retry {
				t.Errorf("a 401 is retryable")
			}
		})
	}
}

func TestGitHubDispatch(t *testing.T) {
	f := newGitFake(t)
	f.answer(http.MethodPost, "/api/v3/repos/org/repo/dispatches", http.StatusNoContent, "")
	n, err := New(Settings{Type: "githubdispatch", Address: f.URL + "/org/repo", Token: testToken})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), testEvent(eventv1.EventSeverityError)); err != nil {
		t.Fatal(err)
	}
	got := f.to(http.MethodPost, "/api/v3/repos/org/repo/dispatches")
	if len(got) != 1 || len(f.all()) != 1 {
		t.Fatalf("requests %v, want one dispatch", f.all())
	}
	golden(t, "githubdispatch", got[0], "Authorization", "Accept", "Content-Type", "X-GitHub-Api-Version")
}

// FuzzParseRepositoryURL: no panic, and an address that parses gives back
// an address that parses to the same repository, with only safe segments.
func FuzzParseRepositoryURL(f *testing.F) {
	for _, seed := range []string{
		"https://github.com/org/repo", "https://gitlab.com/a/b/c.git", "https://x/scm/P/r.git",
		"https://dev.azure.com/o/p/_git/r", "https://h/a/../b", "https://u:p@h/a/b", "http://h:1/a?b#c", "%zz",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, address string) {
		r, err := parseRepositoryURL(address)
		if err != nil {
			return
		}
		for _, s := range r.segments {
			if !validSegment(s) {
				t.Fatalf("segment %q of %q", s, address)
			}
		}
		again, err := parseRepositoryURL(r.String())
		if err != nil || again.String() != r.String() || strings.Join(again.segments, "/") != strings.Join(r.segments, "/") {
			t.Fatalf("%q parsed to %q, which parses to %q, %v", address, r.String(), again.String(), err)
		}
	})
}
