package cli

import (
	"strings"
	"testing"
)

// installedNamespace installs into a fresh namespace and returns it.
func installedNamespace(t *testing.T) string {
	t.Helper()
	ns := installNamespace(t)
	if _, stderr, err := runFlux(t, "", "install", "-n", ns); err != nil {
		t.Fatalf("install: %v\n%s", err, stderr)
	}
	return ns
}

func TestVersionClientOnly(t *testing.T) {
	stdout, _, err := runFluxNoCluster(t, "version", "--client")
	if err != nil || stdout != "flux: v0.0.0-test\n" {
		t.Errorf("version --client: %q, %v", stdout, err)
	}
	stdout, _, err = runFluxNoCluster(t, "version", "--client", "-o", "json")
	if err != nil || stdout != "{\n    \"flux\": \"v0.0.0-test\"\n}\n" {
		t.Errorf("version --client -o json: %q, %v", stdout, err)
	}
	if _, _, err := runFluxNoCluster(t, "version", "--client", "-o", "table"); err == nil || !strings.Contains(err.Error(), "use yaml or json") {
		t.Errorf("version -o table: %v", err)
	}
}

func TestVersionCluster(t *testing.T) {
	ns := installedNamespace(t)
	stdout, stderr, err := runFlux(t, "", "version", "-n", ns)
	if err != nil {
		t.Fatalf("version: %v\n%s", err, stderr)
	}
	want := "flux: v0.0.0-test\ndistribution: driftless-v0.0.0-test\n" +
		"driftless-controller: ghcr.io/driftless/driftless-controller:v0.0.0-test\n"
	if stdout != want {
		t.Errorf("version:\n%s\nwant:\n%s", stdout, want)
	}
	for _, format := range []string{"yaml", "json"} {
		stdout, stderr, err := runFlux(t, "", "version", "-n", ns, "-o", format)
		if err != nil {
			t.Fatalf("version -o %s: %v\n%s", format, err, stderr)
		}
		compareCLIGolden(t, "version/version."+format, stdout)
	}
}

func TestVersionNotInstalled(t *testing.T) {
	ns := env.Namespace(t)
	_, _, err := runFlux(t, "", "version", "-n", ns)
	want := "Driftless is not installed in namespace " + ns + "; run flux install or use --client"
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %q", err, want)
	}
}
