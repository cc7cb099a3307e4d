package health_test

import (
	"strings"
	"testing"

	"github.com/driftless/driftless/internal/engine/health"
)

func TestRefs(t *testing.T) {
	ref, err := health.RefFromAPIVersion("apps/v1", "Deployment", "apps", "web")
	if err != nil {
		t.Fatal(err)
	}
	if ref.Group != "apps" || ref.Version != "v1" || ref.String() != "Deployment/apps/web" {
		t.Errorf("ref = %+v (%s)", ref, ref)
	}
	core, err := health.RefFromAPIVersion("v1", "Namespace", "", "apps")
	if err != nil || core.Group != "" || core.String() != "Namespace/apps" {
		t.Errorf("core ref = %+v (%s), %v", core, core, err)
	}
	_, err = health.RefFromAPIVersion("apps/v1/beta", "Deployment", "apps", "web")
	if err == nil || !strings.Contains(err.Error(), `Deployment/web: invalid apiVersion "apps/v1/beta"`) {
		t.Errorf("bad apiVersion: %v", err)
	}

	cases := []struct {
		status health.ObjectStatus
		want   string
	}{
		{health.ObjectStatus{Ref: ref, Result: health.Result{Status: health.InProgress, Message: "Available: 0/1"}},
			"Deployment/apps/web status: 'InProgress': Available: 0/1"},
		{health.ObjectStatus{Ref: core, Result: health.Result{Status: health.NotFound}}, "Namespace/apps status: 'NotFound'"},
	}
	for _, tc := range cases {
		if got := tc.status.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}
