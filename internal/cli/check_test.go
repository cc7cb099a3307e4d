package cli

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

var kubeVersionRE = regexp.MustCompile(`Kubernetes v?\d+\.\d+\.\d+\S*`)

func TestCheckPre(t *testing.T) {
	_, stderr, err := runFlux(t, "", "check", "--pre")
	if err != nil {
		t.Fatalf("check --pre: %v\n%s", err, stderr)
	}
	got := kubeVersionRE.ReplaceAllString(stderr, "Kubernetes X")
	want := "► checking prerequisites\n✔ Kubernetes X >=1.33.0-0\n✔ prerequisites checks passed\n✔ all checks passed\n"
	if got != want {
		t.Errorf("check --pre:\n%s\nwant:\n%s", got, want)
	}
}

func TestCheckInstalled(t *testing.T) {
	ns := installedNamespace(t)
	_, stderr, err := runFlux(t, "", "check", "-n", ns)
	if err != nil {
		t.Fatalf("check: %v\n%s", err, stderr)
	}
	compareCLIGolden(t, "check/installed.txt", kubeVersionRE.ReplaceAllString(normalise(stderr, ns), "Kubernetes X"))
}

func TestCheckNotInstalled(t *testing.T) {
	ns := env.Namespace(t)
	_, stderr, err := runFlux(t, "", "check", "-n", ns)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("check: want exit code 1, got %v", err)
	}
	for _, want := range []string{
		"✗ Driftless is not installed in namespace " + ns + "; run flux install -n " + ns,
		"✗ check failed",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("check output lacks %q:\n%s", want, stderr)
		}
	}
}

func TestVersionAtLeast(t *testing.T) {
	for v, want := range map[string]bool{
		"v1.33.0": true, "v1.36.2+k3s1": true, "v1.33.0-rc.1": true, "v1.32.9": false, "v1.34.1-eks-1234": true,
	} {
		if got := versionAtLeast(utilversion.MustParseSemantic(v), minKubernetesVersion); got != want {
			t.Errorf("%s: got %t, want %t", v, got, want)
		}
	}
}
