package v2

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestGetReleaseName(t *testing.T) {
	tests := []struct {
		name            string
		objName         string
		releaseName     string
		targetNamespace string
		want            string
	}{
		{name: "object name", objName: "podinfo", want: "podinfo"},
		{name: "explicit name wins", objName: "podinfo", releaseName: "web", targetNamespace: "apps", want: "web"},
		{name: "target namespace prefix", objName: "podinfo", targetNamespace: "apps", want: "apps-podinfo"},
		{
			name:            "long composition is shortened",
			objName:         "with-a-nice-object-name",
			targetNamespace: "a-very-lengthy-target-namespace",
			// Flux's docs show "...-with-a-nic-97af5d7f41f3" (55 characters); the
			// code keeps 40 characters, as here. The hash matches the docs.
			want: "a-very-lengthy-target-namespace-with-a-n-97af5d7f41f3",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hr := &HelmRelease{
				ObjectMeta: metav1.ObjectMeta{Name: tt.objName, Namespace: "default"},
				Spec:       HelmReleaseSpec{ReleaseName: tt.releaseName, TargetNamespace: tt.targetNamespace},
			}
			got := hr.GetReleaseName()
			if got != tt.want {
				t.Errorf("GetReleaseName() = %q, want %q", got, tt.want)
			}
			if len(got) > maxReleaseNameLength {
				t.Errorf("GetReleaseName() is %d characters long", len(got))
			}
		})
	}
}
