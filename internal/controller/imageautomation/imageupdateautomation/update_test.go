package imageupdateautomation

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/gittest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: payments-api
  namespace: payments
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.local/payments-api:1.2.3 # {"$imagepolicy": "%NS%:payments-api"}
        - name: sidecar
          image: registry.local/sidecar:0.1.0
          # keep this comment
`

const values = `migrate:
  image:
    repository: registry.local/migrate # {"$imagepolicy": "%NS%:migrate:name"}
    tag: v1 # {"$imagepolicy": "%NS%:migrate:tag"}
`

const messageText = `Automated image update

Automation name: {{ .AutomationObject }}
{{ range .Changed.Changes -}}
- {{ .OldValue }} -> {{ .NewValue }}
{{ end -}}
Team: {{ .Values.team }}`

// TestCommitsThePolicysImage follows an automation on the branch its
// GitRepository tracks: one commit by the author with the template
// rendered, only the marked values changed, the GitRepository asked to
// fetch it; nothing to do makes no commit; a new latestRef alone (no
// reconcile request) makes the next commit.
func TestCommitsThePolicysImage(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	content := strings.ReplaceAll(deployment, "%NS%", f.ns)
	vals := strings.ReplaceAll(values, "%NS%", f.ns)
	initial := f.repo.CommitFiles("main", map[string]string{"apps/deploy.yaml": content, "apps/values.yaml": vals}, "add app")
	pol := f.policy(t, "payments-api", nil, imagev1.ImageRef{Name: "registry.local/payments-api", Tag: "1.3.0"})
	f.policy(t, "migrate", nil, imagev1.ImageRef{Name: "registry.local/migrate", Tag: "v2"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.GitSpec.Commit.MessageTemplate = messageText
		s.GitSpec.Commit.MessageTemplateValues = map[string]string{"team": "payments"}
		s.Update = &imagev1.UpdateStrategy{Strategy: imagev1.UpdateStrategySetters, Path: "./apps"}
	})
	got := f.waitPushed(t, obj, "main", "")

	head := f.head("main")
	if parent := f.git(t, "rev-parse", head+"^"); parent != initial {
		t.Errorf("the pushed commit's parent is %s, want the branch's head %s", parent, initial)
	}
	if author := f.git(t, "log", "-1", "--format=%an <%ae>", head); author != "fluxcdbot <fluxcdbot@users.noreply.github.com>" {
		t.Errorf("author %q", author)
	}
	wantMsg := "Automated image update\n\nAutomation name: " + f.ns + "/auto\n" +
		"- registry.local/payments-api:1.2.3 -> registry.local/payments-api:1.3.0\n- v1 -> v2\nTeam: payments"
	if msg := f.git(t, "log", "-1", "--format=%B", head); msg != wantMsg {
		t.Errorf("commit message:\n%s\nwant:\n%s", msg, wantMsg)
	}
	want := strings.Replace(content, "payments-api:1.2.3 #", "payments-api:1.3.0 #", 1)
	if file := f.git(t, "show", head+":apps/deploy.yaml"); file+"\n" != want {
		t.Errorf("deploy.yaml:\n%s\nwant:\n%s", file, want)
	}
	want = strings.Replace(vals, "tag: v1 #", "tag: v2 #", 1)
	if file := f.git(t, "show", head+":apps/values.yaml"); file+"\n" != want {
		t.Errorf("values.yaml:\n%s\nwant:\n%s", file, want)
	}
	if files := f.git(t, "diff", "--name-only", initial, head); files != "apps/deploy.yaml\napps/values.yaml" {
		t.Errorf("changed files %q", files)
	}
	if got.Status.LastPushTime == nil || got.Status.LastAutomationRunTime == nil {
		t.Errorf("push and run times not set: %+v", got.Status)
	}
	if got.Status.ObservedSourceRevision != "main@sha1:"+head {
		t.Errorf("observedSourceRevision %q", got.Status.ObservedSourceRevision)
	}
	if p := got.Status.ObservedPolicies["payments-api"]; p.Tag != "1.3.0" || len(got.Status.ObservedPolicies) != 2 {
		t.Errorf("observedPolicies %+v", got.Status.ObservedPolicies)
	}
	ready := controllertest.WaitReady(t, kube, obj)
	if msg := readyMessage(ready); !strings.HasPrefix(msg, "pushed commit '"+head[:7]+"' to branch 'main'\nAutomated image update") {
		t.Errorf("Ready message %q", msg)
	}
	controllertest.WaitEvent(t, env.Kube, obj, corev1.EventTypeNormal, meta.SucceededReason, "pushed commit '"+head[:7]+"' to branch 'main'")
	controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(f.src), "requestedAt", func(o *sourcev1.GitRepository) bool {
		return o.Annotations[meta.ReconcileRequestAnnotation] != ""
	})

	controllertest.RequestReconcile(t, kube, obj, "nothing-new")
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "request handled", func(o *imagev1.ImageUpdateAutomation) bool {
		return o.Status.LastHandledReconcileAt == "nothing-new" && readyAtGeneration(o)
	})
	if now := f.head("main"); now != head {
		t.Errorf("a run with nothing to change moved main from %s to %s", head, now)
	}
	if msg := readyMessage(got); !strings.HasPrefix(msg, "no updates made") {
		t.Errorf("Ready message %q", msg)
	}

	setLatest(t, pol, imagev1.ImageRef{Name: "registry.local/payments-api", Tag: "1.4.0"})
	got = f.waitPushed(t, obj, "main", head)
	if file := f.git(t, "show", "main:apps/deploy.yaml"); !strings.Contains(file, `payments-api:1.4.0 # {"$imagepolicy"`) {
		t.Errorf("deploy.yaml after the new latestRef:\n%s", file)
	}
	if parent := f.git(t, "rev-parse", got.Status.LastPushCommit+"^"); parent != head {
		t.Errorf("second commit's parent %s, want %s", parent, head)
	}
}

func readyMessage(o *imagev1.ImageUpdateAutomation) string {
	for _, c := range o.Status.Conditions {
		if c.Type == meta.ReadyCondition {
			return c.Message
		}
	}
	return ""
}

// readyAtGeneration tells whether the object is Ready at its generation.
func readyAtGeneration(o *imagev1.ImageUpdateAutomation) bool {
	for _, c := range o.Status.Conditions {
		if c.Type == meta.ReadyCondition {
			return c.Status == "True" && o.Status.ObservedGeneration == o.Generation
		}
	}
	return false
}

// TestUnchangedRunSkipsTheClone runs the automation again without a
// reconcile request, a new policy pick or a new head: it looks at the
// remote head only, and clones again once the branch moves.
func TestUnchangedRunSkipsTheClone(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	pol := f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", nil)
	got := f.waitPushed(t, obj, "main", "")
	lastRun := got.Status.LastAutomationRunTime
	// The status holds whole seconds: let the clock pass lastRun's second
	// so that the next run's time differs.
	testcluster.Eventually(t, 5*time.Second, "the next second", func() (bool, error) {
		return time.Now().Truncate(time.Second).After(lastRun.Time), nil
	})

	f.srv.ResetRequests()
	controllertest.Update(t, kube, pol, func(p *imagev1.ImagePolicy) { p.Labels = map[string]string{"touched": "1"} })
	got = controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "another run", func(o *imagev1.ImageUpdateAutomation) bool {
		return o.Status.LastAutomationRunTime != nil && !o.Status.LastAutomationRunTime.Equal(lastRun) && readyAtGeneration(o)
	})
	if n := f.srv.PackRequests(); n != 0 {
		t.Errorf("an unchanged run made %d pack requests; want a remote check only", n)
	}
	if msg := readyMessage(got); !strings.HasPrefix(msg, "no updates made; last commit '"+got.Status.LastPushCommit[:7]+"'") {
		t.Errorf("Ready message %q", msg)
	}
}

// TestGitRepositorySpecTriggers moves the GitRepository to another
// repository: the automation runs on the spec change alone (its interval
// is an hour, and nothing asks it to) and updates the new repository.
func TestGitRepositorySpecTriggers(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.commitMarked(t)
	other := gittest.NewRepoAt(t, f.repo.Root(), "other.git")
	before := other.CommitFiles("main", map[string]string{"deploy.yaml": strings.ReplaceAll(marked, "%NS%", f.ns)}, "other app")
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", nil)
	first := f.waitPushed(t, obj, "main", "").Status.LastPushCommit

	controllertest.Update(t, kube, f.src, func(g *sourcev1.GitRepository) { g.Spec.URL = f.srv.RepoURL(other.Name()) })
	got := controllertest.WaitFor(t, kube, client.ObjectKeyFromObject(obj), "a push to the other repository", func(o *imagev1.ImageUpdateAutomation) bool {
		return o.Status.LastPushCommit != "" && o.Status.LastPushCommit != first && o.Status.LastPushCommit == other.Head("main")
	})
	if parent := gitIn(t, other.Dir(), nil, "rev-parse", got.Status.LastPushCommit+"^"); parent != before {
		t.Errorf("parent %s, want %s", parent, before)
	}
}
