package kinds

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
)

func actionNames(as []Action) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Name)
	}
	return out
}

func TestActions(t *testing.T) {
	suspendedKs := Kustomization().New()
	Kustomization().SetSuspend(suspendedKs, true)
	ociRepo := &sourcev1.HelmRepository{Spec: sourcev1.HelmRepositorySpec{Type: "oci"}}
	for _, tc := range []struct {
		name string
		k    Kind
		obj  Object
		want []string
	}{
		{"kustomization", Kustomization(), Kustomization().New(), []string{"reconcile", "reconcile-with-source", "suspend"}},
		{"suspended: resume only", Kustomization(), suspendedKs, []string{"resume"}},
		{"source has no source", GitRepository(), GitRepository().New(), []string{"reconcile", "suspend"}},
		{"helm release adds force and reset", HelmRelease(), HelmRelease().New(), []string{"reconcile", "reconcile-with-source", "force", "reset", "suspend"}},
		{"static object is not reconciled", HelmRepository(), ociRepo, []string{"suspend"}},
		{"alert is not reconciled", Alert(), &v1beta3.Alert{}, []string{"suspend"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := actionNames(tc.k.Actions(tc.obj)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Actions = %v, want %v", got, tc.want)
			}
		})
	}
	// The suspended object's one action says why it is not Reconcile.
	resume, ok := Kustomization().ActionNamed(suspendedKs, "resume")
	if !ok || resume.Label != "Resume and reconcile" {
		t.Errorf("suspended Kustomization's resume = %+v, %v", resume, ok)
	}
	if _, ok := Kustomization().ActionNamed(suspendedKs, "reconcile"); ok {
		t.Error("a suspended Kustomization offers reconcile, which would be ignored")
	}
	suspendedAlert := &v1beta3.Alert{Spec: v1beta3.AlertSpec{Suspend: true}}
	if a, _ := Alert().ActionNamed(suspendedAlert, "resume"); a.Label != "Resume" {
		t.Errorf("a suspended Alert's resume is labelled %q; nothing reconciles an Alert", a.Label)
	}
}

func TestActionPatches(t *testing.T) {
	token := RequestToken(time.Date(2026, 12, 7, 18, 0, 0, 5, time.UTC))
	if token != "2026-12-07T18:00:00.000000005Z" {
		t.Fatalf("token = %q", token)
	}
	decode := func(b []byte) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("patch %s: %v", b, err)
		}
		return m
	}
	ann := func(m map[string]any) map[string]any {
		md, _ := m["metadata"].(map[string]any)
		a, _ := md["annotations"].(map[string]any)
		return a
	}
	hr := HelmRelease()
	force, _ := hr.ActionNamed(hr.New(), "force")
	got := ann(decode(hr.Patch(force, token)))
	want := map[string]any{meta.ReconcileRequestAnnotation: token, meta.ForceRequestAnnotation: token}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("force annotations = %v, want %v", got, want)
	}
	resume := decode(Kustomization().Patch(ActionResume, token))
	if spec := resume["spec"].(map[string]any); spec["suspend"] != nil || len(spec) != 1 {
		t.Errorf("resume spec = %v, want suspend: null", spec)
	}
	if a := ann(resume); a[meta.ReconcileRequestAnnotation] != token {
		t.Errorf("resume does not request a reconcile: %v", a)
	}
	if a := ann(decode(Alert().Patch(ActionResume, token))); a != nil {
		t.Errorf("an Alert's resume sets annotations %v; no controller reads them", a)
	}
	if s := string(Kustomization().Patch(ActionSuspend, token)); s != `{"spec":{"suspend":true}}` {
		t.Errorf("suspend patch = %s", s)
	}
}
