package imageupdateautomation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/reconcile"
	"github.com/driftless/driftless/internal/testkit/controllertest"
)

// TestBadInputStalls gives each refused spec and checks Ready=False with
// the reason and a message naming what is wrong, and that nothing was pushed.
func TestBadInputStalls(t *testing.T) {
	cases := []struct {
		name    string
		mutate  func(*imagev1.ImageUpdateAutomationSpec)
		reason  string
		message string
		stalled bool
	}{
		{name: "missing-source", reason: imagev1.SourceManagerFailedReason, message: "referenced git repository",
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) { s.SourceRef.Name = "nope" }},
		{name: "bad-template", reason: imagev1.UpdateFailedReason, message: "failed to parse commit message template", stalled: true,
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Commit.MessageTemplate = "{{ range .Changed.Changes }"
			}},
		{name: "failing-template", reason: imagev1.UpdateFailedReason, message: "failed to render commit message template",
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) { s.GitSpec.Commit.MessageTemplate = "{{ .Values.missing }}" }},
		{name: "image-result", reason: imagev1.RemovedTemplateFieldReason, message: ".Changed.ImageResult", stalled: true,
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Commit.MessageTemplate = "{{ range $k, $v := .Changed.ImageResult }}{{ $k }}{{ end }}"
			}},
		{name: "removed-via-variable", reason: imagev1.RemovedTemplateFieldReason, message: ".Changed.ImageResult", stalled: true,
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Commit.MessageTemplate = "{{ range .Changed.Changes }}{{ $.Changed.ImageResult }}{{ end }}"
			}},
		{name: "refspec", reason: imagev1.InvalidSourceConfigReason, message: "the source must be HEAD", stalled: true,
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Push = &imagev1.PushSpec{Refspec: "refs/heads/other:refs/heads/auto"}
			}},
		{name: "checkout-tag", reason: imagev1.InvalidSourceConfigReason, message: "git.push.branch is required when checking out tag 'v1'", stalled: true,
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Checkout = &imagev1.GitCheckoutSpec{Reference: imagev1.GitRepositoryRef{Tag: "v1"}}
			}},
		{name: "no-signing-secret", reason: imagev1.GitOperationFailedReason, message: "failed to get secret",
			mutate: func(s *imagev1.ImageUpdateAutomationSpec) {
				s.GitSpec.Commit.SigningKey = &imagev1.SigningKey{SecretRef: meta.LocalObjectReference{Name: "absent"}}
			}},
	}
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	head := f.commitMarked(t)
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obj := f.automation(t, c.name, c.mutate)
			got := controllertest.WaitNotReady(t, kube, obj, c.reason)
			if msg := readyMessage(got); !strings.Contains(msg, c.message) {
				t.Errorf("Ready message %q does not contain %q", msg, c.message)
			}
			if stalled := reconcile.IsTrue(got, meta.StalledCondition); stalled != c.stalled {
				t.Errorf("Stalled=%v, want %v", stalled, c.stalled)
			}
			controllertest.WaitEvent(t, env.Kube, obj, corev1.EventTypeWarning, c.reason, c.message)
		})
	}
	if now := f.head("main"); now != head {
		t.Errorf("main moved from %s to %s", head, now)
	}
}

// TestSourceKindAndLockdown covers what the API server's schema already
// refuses (another kind) and the lockdown, on the step itself.
func TestSourceKindAndLockdown(t *testing.T) {
	r := &Reconciler{NoCrossNamespaceRefs: true}
	for _, c := range []struct {
		ref    imagev1.CrossNamespaceSourceReference
		reason string
		text   string
	}{
		{ref: imagev1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "x"}, reason: imagev1.InvalidSourceConfigReason,
			text: "source kind 'OCIRepository' not supported"},
		{ref: imagev1.CrossNamespaceSourceReference{Kind: "GitRepository", Name: "x", Namespace: "other"}, reason: meta.AccessDeniedReason,
			text: "cross-namespace references have been blocked"},
	} {
		obj := &imagev1.ImageUpdateAutomation{}
		obj.Namespace, obj.Spec.SourceRef = "mine", c.ref
		err := r.reconcileSource(t.Context(), obj, nil, &Run{})
		var stall *reconcile.StallingError
		if !errors.As(err, &stall) || stall.Reason != c.reason || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%+v: got %v, want a stall %s containing %q", c.ref, err, c.reason, c.text)
		}
	}
}

// TestOtherStrategyStalls covers a strategy the schema refuses too.
func TestOtherStrategyStalls(t *testing.T) {
	obj := &imagev1.ImageUpdateAutomation{}
	obj.Spec.Update = &imagev1.UpdateStrategy{Strategy: "Regex"}
	err := (&Reconciler{}).reconcilePolicies(t.Context(), obj, nil, &Run{})
	var stall *reconcile.StallingError
	if !errors.As(err, &stall) || stall.Reason != imagev1.InvalidUpdateStrategyReason || !strings.Contains(err.Error(), "'Regex'") {
		t.Errorf("got %v, want an InvalidUpdateStrategy stall naming the strategy", err)
	}
}

// TestMarkerNamingAMissingPolicy updates the markers it can and names
// the others, by file, line and policy, in a Warning event and Ready; a
// marked file that is not YAML is skipped and named.
func TestMarkerNamingAMissingPolicy(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	f.repo.CommitFiles("main", map[string]string{"deploy.yaml": strings.ReplaceAll(marked, "%NS%", f.ns) +
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other\ndata:\n  image: registry.local/ghost:1.0.0 # {\"$imagepolicy\": \"" + f.ns + ":ghost\"}\n" +
		"  unselected: registry.local/hidden:1.0.0 # {\"$imagepolicy\": \"" + f.ns + ":hidden\"}\n",
		"broken.yaml": "image: [registry.local/app:1.0.0 # {\"$imagepolicy\": \"" + f.ns + ":app\"}\n"}, "add app")
	f.policy(t, "app", map[string]string{"automate": "yes"}, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	f.policy(t, "hidden", nil, imagev1.ImageRef{Name: "registry.local/hidden", Tag: "2.0.0"})
	obj := f.automation(t, "auto", func(s *imagev1.ImageUpdateAutomationSpec) {
		s.PolicySelector = &metav1.LabelSelector{MatchLabels: map[string]string{"automate": "yes"}}
	})
	got := f.waitPushed(t, obj, "main", "")
	file := f.git(t, "show", got.Status.LastPushCommit+":deploy.yaml")
	if !strings.Contains(file, "app:1.1.0 #") || !strings.Contains(file, "ghost:1.0.0 #") || !strings.Contains(file, "hidden:1.0.0 #") {
		t.Errorf("deploy.yaml:\n%s", file)
	}
	msg := readyMessage(got)
	for _, want := range []string{"deploy.yaml:17 names policy '" + f.ns + ":ghost'", "deploy.yaml:18 names policy '" + f.ns + ":hidden'",
		"skipped broken.yaml: "} {
		if !strings.Contains(msg, want) {
			t.Errorf("Ready message %q does not contain %q", msg, want)
		}
	}
	controllertest.WaitEvent(t, env.Kube, obj, corev1.EventTypeWarning, "", "deploy.yaml:17 names policy '"+f.ns+":ghost'")
	if _, ok := got.Status.ObservedPolicies["hidden"]; ok {
		t.Errorf("observedPolicies holds an unselected policy: %+v", got.Status.ObservedPolicies)
	}
}

// TestPushRefusedByTheServer has a pre-receive hook refuse the push, as a
// protected branch does: GitOperationFailed with the server's own words.
func TestPushRefusedByTheServer(t *testing.T) {
	f := newFixture(t, map[string]string{"README.md": "hello\n"})
	head := f.commitMarked(t)
	hook := "#!/bin/sh\necho 'GL-HOOK-ERR: branch main is protected' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(f.repo.Dir(), "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	f.policy(t, "app", nil, imagev1.ImageRef{Name: "registry.local/app", Tag: "1.1.0"})
	obj := f.automation(t, "auto", nil)
	got := controllertest.WaitNotReady(t, kube, obj, imagev1.GitOperationFailedReason)
	if msg := readyMessage(got); !strings.Contains(msg, "branch main is protected") {
		t.Errorf("Ready message %q does not carry the server's message", msg)
	}
	if now := f.head("main"); now != head {
		t.Errorf("main moved from %s to %s", head, now)
	}
}
