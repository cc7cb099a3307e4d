package helmrepository_test

import (
	"net"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/helmtest"
)

// closedURL is an http URL on a port nothing listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/charts"
}

func TestBadRepositoriesFailWithTheirReason(t *testing.T) {
	ns := env.Namespace(t)
	notYAML := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	notYAML.SetIndex([]byte("<html>this is a login page</html>\n"))
	tooBig := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	tooBig.SetIndex([]byte("apiVersion: v1\nentries: {}\n# " + strings.Repeat("x", maxIndexSize) + "\n"))
	empty := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	missing := helmtest.NewRepository(t, helmtest.RepositoryOptions{})

	cases := []struct {
		name, url, reason string
		want              []string
		stalled           bool
	}{
		{name: "unreachable", url: closedURL(t), reason: sourcev1.IndexationFailedReason, want: []string{"connection refused"}},
		{name: "no-index", url: missing.URL + "/nothing-here", reason: sourcev1.IndexationFailedReason, want: []string{"404"}},
		{name: "not-yaml", url: notYAML.URL, reason: sourcev1.IndexationFailedReason, want: []string{"YAML"}},
		{name: "too-big", url: tooBig.URL, reason: sourcev1.IndexationFailedReason, want: []string{"262144"}},
		{name: "oci-without-type", url: "oci://" + strings.TrimPrefix(empty.URL, "http://"), reason: sourcev1.URLInvalidReason, want: []string{"spec.type: oci"}, stalled: true},
		{name: "credentials-in-url", url: strings.Replace(empty.URL, "http://", "http://me:hunter2@", 1), reason: sourcev1.URLInvalidReason, want: []string{"spec.secretRef"}, stalled: true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := create(t, ns, c.name, sourcev1.HelmRepositorySpec{URL: c.url})
			got := controllertest.WaitNotReady(t, kube, obj, c.reason)
			msg := condition(got, meta.ReadyCondition).Message
			if strings.Contains(msg, "hunter2") {
				t.Errorf("message %q shows a password", msg)
			}
			host := c.url[strings.LastIndex(c.url, "@")+1:]
			if i := strings.Index(host, "://"); i >= 0 {
				host = host[i+3:]
			}
			for _, w := range append(c.want, host) {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not mention %q", msg, w)
				}
			}
			if stalled := condition(got, meta.StalledCondition) != nil; stalled != c.stalled {
				t.Errorf("stalled %v, want %v: %+v", stalled, c.stalled, got.Status.Conditions)
			}
			if got.Status.Artifact != nil {
				t.Errorf("an artifact from a failed fetch: %+v", got.Status.Artifact)
			}
		})
	}
}

func TestAFailedFetchKeepsServingThePreviousIndex(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	obj := create(t, ns, "keeps", sourcev1.HelmRepositorySpec{URL: kit.URL})
	good := controllertest.WaitReady(t, kube, obj)
	before, _ := download(t, good.Status.URL)

	kit.SetIndex([]byte(": not an index"))
	controllertest.RequestReconcile(t, kube, good, "broken")
	got := controllertest.WaitNotReady(t, kube, good, sourcev1.IndexationFailedReason)
	if got.Status.Artifact == nil || got.Status.Artifact.Revision != good.Status.Artifact.Revision {
		t.Fatalf("the previous artifact was dropped: %+v", got.Status.Artifact)
	}
	if c := condition(got, sourcev1.ArtifactInStorageCondition); c == nil || c.Status != "True" {
		t.Errorf("ArtifactInStorage = %+v", c)
	}
	if after, _ := download(t, got.Status.URL); string(after) != string(before) {
		t.Error("status.url no longer serves the previous index")
	}
	kit.SetIndex(nil)
	controllertest.WaitReady(t, kube, got)
}

func TestAStallingServerFailsWithinTheTimeout(t *testing.T) {
	ns := env.Namespace(t)
	kit := helmtest.NewRepository(t, helmtest.RepositoryOptions{})
	kit.MustPublish(t, helmtest.ConfigMapChart("app", "1.0.0"))
	kit.Stall()
	obj := create(t, ns, "stalling", sourcev1.HelmRepositorySpec{URL: kit.URL, Timeout: &metav1.Duration{Duration: 2 * time.Second}})
	<-kit.Stalled()
	got := controllertest.WaitNotReady(t, kube, obj, sourcev1.IndexationFailedReason)
	if msg := condition(got, meta.ReadyCondition).Message; !strings.Contains(msg, kit.URL) || !strings.Contains(msg, "timeout") {
		t.Errorf("message %q should name the URL and the timeout", msg)
	}
	kit.Resume()
	controllertest.WaitReady(t, kube, got)
}
