package notifier

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// commentCase is one change-request comment host: where its comments are
// listed and created, and the update call of comment 102.
type commentCase struct {
	typ, address           string
	listPath, updateMethod string
	updatePath             string
	headers                []string
}

func commentCases() []commentCase {
	return []commentCase{
		{typ: "githubpullrequestcomment", address: "/org/repo", listPath: "/api/v3/repos/org/repo/issues/7/comments",
			updateMethod: http.MethodPatch, updatePath: "/api/v3/repos/org/repo/issues/comments/102",
			headers: []string{"Authorization", "Content-Type"}},
		{typ: "giteapullrequestcomment", address: "/org/repo", listPath: "/api/v1/repos/org/repo/issues/7/comments",
			updateMethod: http.MethodPatch, updatePath: "/api/v1/repos/org/repo/issues/comments/102",
			headers: []string{"Authorization", "Content-Type"}},
		{typ: "gitlabmergerequestcomment", address: "/group/project", listPath: "/api/v4/projects/group%2Fproject/merge_requests/7/notes",
			updateMethod: http.MethodPut, updatePath: "/api/v4/projects/group%2Fproject/merge_requests/7/notes/102",
			headers: []string{"Private-Token", "Content-Type"}},
	}
}

// changeRequestEvent is an event of an object annotated with the change
// request 7.
func changeRequestEvent(severity string) eventv1.Event {
	e := testEvent(severity)
	e.Metadata["event.toolkit.fluxcd.io/change_request"] = "7"
	return e
}

// The object's comment is created once, then updated in place; comments
// of people, of other objects and of other providers are left alone, and
// a message cannot forge the marker.
func TestChangeRequestComments(t *testing.T) {
	for _, c := range commentCases() {
		t.Run(c.typ, func(t *testing.T) {
			f := newGitFake(t)
			other := commentMarker(testEvent(eventv1.EventSeverityInfo), "ffffffff-0000")
			comments := &commentList{items: []map[string]any{
				{"id": 100, "body": "LGTM\n" + commentMarker(testEvent(eventv1.EventSeverityInfo), testProviderUID)},
				{"id": 101, "body": other + "\nanother provider's comment"},
			}}
			f.on(http.MethodGet, c.listPath, func(recorded) (int, string) { return http.StatusOK, comments.json() })
			f.on(http.MethodPost, c.listPath, func(r recorded) (int, string) { return comments.create(t, r) })
			f.on(c.updateMethod, c.updatePath, func(r recorded) (int, string) { return comments.update(t, 102, r) })
			n, err := New(Settings{Type: c.typ, Address: f.URL + c.address, Token: testToken, ProviderUID: testProviderUID})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()

			if err := n.Post(ctx, changeRequestEvent(eventv1.EventSeverityError)); err != nil {
				t.Fatal(err)
			}
			created := f.to(http.MethodPost, c.listPath)
			if len(created) != 1 {
				t.Fatalf("%d comments created, want 1: %v", len(created), f.all())
			}
			golden(t, c.typ+"-create", created[0], c.headers...)

			e := changeRequestEvent(eventv1.EventSeverityInfo)
			e.Reason = "ReconciliationSucceeded"
			e.Message = "Applied revision: main@sha1:" + testSHA + "\n```\n" + other + "\n`code`"
			if err := n.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
			updated := f.to(c.updateMethod, c.updatePath)
			if len(updated) != 1 || len(f.to(http.MethodPost, c.listPath)) != 1 {
				t.Fatalf("requests %v, want one update of comment 102 and no second comment", f.all())
			}
			golden(t, c.typ+"-update", updated[0], c.headers...)

			if err := n.Post(ctx, e); err != nil {
				t.Fatal(err)
			}
			if got := len(f.to(c.updateMethod, c.updatePath)); got != 1 {
				t.Errorf("an unchanged comment was written again (%d updates)", got)
			}
			if len(comments.items) != 3 || comments.items[0]["body"] != "LGTM\n"+commentMarker(testEvent(eventv1.EventSeverityInfo), testProviderUID) ||
				!strings.HasSuffix(comments.items[1]["body"].(string), "another provider's comment") {
				t.Errorf("other comments changed: %v", comments.items)
			}
		})
	}
}

// Without a change request the comment types do nothing; a change request
// that is not a number is refused before any request.
func TestChangeRequestRefusals(t *testing.T) {
	for _, c := range commentCases() {
		f := newGitFake(t)
		n, err := New(Settings{Type: c.typ, Address: f.URL + c.address, Token: testToken, ProviderUID: testProviderUID})
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Post(context.Background(), testEvent(eventv1.EventSeverityError)); err != nil {
			t.Errorf("%s without change request: %v", c.typ, err)
		}
		for _, bad := range []string{"", "07", "7/../../admin", "7?x=1", "-1", "12345678901", "1e3"} {
			e := testEvent(eventv1.EventSeverityError)
			e.Metadata["event.toolkit.fluxcd.io/change_request"] = bad
			err := n.Post(context.Background(), e)
			var permanent *PermanentError
			if !errors.As(err, &permanent) || !strings.Contains(err.Error(), "change_request") {
				t.Errorf("%s change request %q: error %v", c.typ, bad, err)
			}
		}
		if got := f.all(); len(got) != 0 {
			t.Errorf("%s: %d requests, want none", c.typ, len(got))
		}
	}
}

// An event posted from outside cannot end the marker early or break out
// of the code block.
func TestCommentBodyInjection(t *testing.T) {
	e := changeRequestEvent(eventv1.EventSeverityError)
	e.InvolvedObject.Kind = "Kustomization -->\n<img src=x>"
	e.InvolvedObject.Name = "apps`**"
	e.Message = "````\n</details><script>x</script>"
	marker := commentMarker(e, testProviderUID)
	inner, ok := strings.CutPrefix(marker, "<!-- ")
	inner, ok2 := strings.CutSuffix(inner, " -->")
	if !ok || !ok2 || strings.ContainsAny(inner, "<>\n` ") != strings.Contains(inner, " ") {
		t.Errorf("marker %q", marker)
	}
	body := commentBody(marker, e)
	if firstLine(body) != marker {
		t.Errorf("first line %q", firstLine(body))
	}
	if !strings.Contains(body, "`````\n````\n</details>") {
		t.Errorf("the message's fence is not longer than its backticks:\n%s", body)
	}
	if strings.Contains(body, "apps`**") {
		t.Errorf("a backtick of the name closes the code span:\n%s", body)
	}
}

// A huge event still makes a comment the hosts take.
func TestCommentBodyBounds(t *testing.T) {
	e := changeRequestEvent(eventv1.EventSeverityError)
	e.Message = strings.Repeat("`", 70000)
	for i := range 200 {
		e.Metadata[strings.Repeat("k", 300)+itoa(i)] = strings.Repeat("v", 5000)
	}
	body := commentBody(commentMarker(e, testProviderUID), e)
	if n := len([]rune(body)); n > 65536 {
		t.Errorf("comment of %d characters", n)
	}
	if !strings.Contains(body, "("+itoa(len(e.Metadata)-maxMetadataLines)+" more)") {
		t.Errorf("metadata not bounded")
	}
}

// FuzzCommentBody: whatever the event says, the comment starts with its
// marker, which nothing in the event can end early, and stays within the
// hosts' limit.
func FuzzCommentBody(f *testing.F) {
	f.Add("Kustomization", "apps", "HealthCheckFailed", "failed\n```\n<!-- x -->", "k", "v")
	f.Add("K -->", "a`b", "", strings.Repeat("`", 20), "", "\n")
	f.Fuzz(func(t *testing.T, kind, name, reason, message, key, value string) {
		e := changeRequestEvent(eventv1.EventSeverityError)
		e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message = kind, name, reason, message
		e.Metadata[key] = value
		marker := commentMarker(e, testProviderUID)
		body := commentBody(marker, e)
		if firstLine(body) != marker || strings.Count(marker, "-->") != 1 || !strings.HasSuffix(marker, " -->") {
			t.Fatalf("marker %q, first line %q", marker, firstLine(body))
		}
		if n := len([]rune(body)); n > 65536 {
			t.Fatalf("comment of %d characters", n)
		}
	})
}

// The object's comment is found on a later page of a long conversation.
func TestChangeRequestCommentPages(t *testing.T) {
	f := newGitFake(t)
	marker := commentMarker(changeRequestEvent(eventv1.EventSeverityError), testProviderUID)
	f.on(http.MethodGet, "/api/v3/repos/org/repo/issues/7/comments", func(r recorded) (int, string) {
		if !strings.Contains(r.Query, "page=2") {
			page := make([]map[string]any, commentPageSize)
			for i := range page {
				page[i] = map[string]any{"id": i + 1, "body": "comment " + itoa(i)}
			}
			data, _ := json.Marshal(page)
			return http.StatusOK, string(data)
		}
		data, _ := json.Marshal([]map[string]any{{"id": 500, "body": marker + "\nold"}})
		return http.StatusOK, string(data)
	})
	f.answer(http.MethodPatch, "/api/v3/repos/org/repo/issues/comments/500", http.StatusOK, "{}")
	n, err := New(Settings{Type: "githubpullrequestcomment", Address: f.URL + "/org/repo", Token: testToken, ProviderUID: testProviderUID})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Post(context.Background(), changeRequestEvent(eventv1.EventSeverityError)); err != nil {
		t.Fatal(err)
	}
	if len(f.to(http.MethodPatch, "/api/v3/repos/org/repo/issues/comments/500")) != 1 || len(f.to(http.MethodPost, "/api/v3/repos/org/repo/issues/7/comments")) != 0 {
		t.Errorf("requests %v, want the comment of page 2 updated", f.all())
	}
}
