package notifier

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// gitFake stands in for a Git host's API: it records each request and
// answers by route ("METHOD /escaped/path"), with 404 for the rest. Some
// routes keep state (statuses posted, comments created) so that a second
// Post sees what the first did, as on the real host.
type gitFake struct {
	*httptest.Server
	mu       sync.Mutex
	requests []recorded
	routes   map[string]func(r recorded) (int, string)
}

func newGitFake(t *testing.T) *gitFake {
	t.Helper()
	f := &gitFake{routes: map[string]func(recorded) (int, string){}}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
		f.mu.Lock()
		f.requests = append(f.requests, rec)
		route := f.routes[r.Method+" "+rec.Path]
		f.mu.Unlock()
		status, answer := http.StatusNotFound, `{"message":"Not Found"}`
		if route != nil {
			status, answer = route(rec)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, answer)
	}))
	t.Cleanup(f.Close)
	return f
}

// on routes a method and path to an answer function. The function runs
// under the fake's lock, so it may keep state.
func (f *gitFake) on(method, path string, answer func(r recorded) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[method+" "+path] = func(r recorded) (int, string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		return answer(r)
	}
}

// answer routes a method and path to a fixed answer.
func (f *gitFake) answer(method, path string, status int, body string) {
	f.on(method, path, func(recorded) (int, string) { return status, body })
}

// to returns the requests so far with the method and path.
func (f *gitFake) to(method, path string) []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []recorded
	for _, r := range f.requests {
		if r.Method == method && r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// all returns every request so far.
func (f *gitFake) all() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.requests...)
}

// normal replaces the fake's address (its port changes) in a request's
// body by http://git.example, so a golden file holds still.
func (f *gitFake) normal(r recorded) recorded {
	r.Body = []byte(strings.ReplaceAll(string(r.Body), f.URL, "http://git.example"))
	return r
}

// statusList is a host's list of commit statuses kept by the fake: a POST
// adds one with the next id, a GET lists them newest first.
type statusList struct {
	items []map[string]any
}

// add records a posted status (the request's JSON) with an id, renaming
// the request's field from to the answer's field to when they differ
// (GitLab posts "state" and lists "status").
func (l *statusList) add(t *testing.T, r recorded, from, to string) {
	var item map[string]any
	if err := json.Unmarshal(r.Body, &item); err != nil {
		t.Errorf("posted status is not JSON: %v", err)
		return
	}
	if from != to {
		item[to] = item[from]
		delete(item, from)
	}
	item["id"] = len(l.items) + 1
	l.items = append([]map[string]any{item}, l.items...)
}

// json is the list as a JSON array.
func (l *statusList) json() string {
	data, _ := json.Marshal(append([]map[string]any{}, l.items...))
	return string(data)
}

// commentList is a change request's comments kept by the fake.
type commentList struct {
	items []map[string]any
}

func (l *commentList) create(t *testing.T, r recorded) (int, string) {
	var item map[string]any
	if err := json.Unmarshal(r.Body, &item); err != nil {
		t.Errorf("posted comment is not JSON: %v", err)
		return http.StatusBadRequest, "{}"
	}
	item["id"] = 100 + len(l.items)
	l.items = append(l.items, item)
	data, _ := json.Marshal(item)
	return http.StatusCreated, string(data)
}

func (l *commentList) update(t *testing.T, id int, r recorded) (int, string) {
	var item map[string]any
	if err := json.Unmarshal(r.Body, &item); err != nil {
		t.Errorf("updated comment is not JSON: %v", err)
		return http.StatusBadRequest, "{}"
	}
	for _, c := range l.items {
		if fmt.Sprint(c["id"]) == fmt.Sprint(id) {
			c["body"] = item["body"]
			return http.StatusOK, "{}"
		}
	}
	return http.StatusNotFound, "{}"
}

func (l *commentList) json() string {
	data, _ := json.Marshal(append([]map[string]any{}, l.items...))
	return string(data)
}
