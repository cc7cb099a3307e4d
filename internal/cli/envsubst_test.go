package cli

import (
	"strings"
	"testing"
)

func TestEnvsubst(t *testing.T) {
	t.Setenv("DRIFTLESS_TEST_CLUSTER", "prod")
	in := "cluster: ${DRIFTLESS_TEST_CLUSTER}\nregion: ${DRIFTLESS_TEST_REGION:=eu}\nmissing: '${DRIFTLESS_TEST_MISSING}'\n"

	out, errOut, err := runFlux(t, in, "envsubst")
	if err != nil {
		t.Fatalf("envsubst: %v\n%s", err, errOut)
	}
	if want := "cluster: prod\nregion: eu\nmissing: ''\n"; out != want {
		t.Errorf("envsubst printed %q, want %q", out, want)
	}

	_, _, err = runFlux(t, in, "envsubst", "--strict")
	if err == nil || !strings.Contains(err.Error(), "DRIFTLESS_TEST_MISSING") {
		t.Fatalf("envsubst --strict: want an error naming DRIFTLESS_TEST_MISSING, got %v", err)
	}
	if strings.Contains(err.Error(), "DRIFTLESS_TEST_REGION") {
		t.Errorf("envsubst --strict complains about a variable with a default: %v", err)
	}
}

func TestCompletion(t *testing.T) {
	for shell, marker := range map[string]string{
		"bash": "__start_flux", "zsh": "#compdef flux", "fish": "complete -c flux", "powershell": "Register-ArgumentCompleter",
	} {
		out, errOut, err := runFlux(t, "", "completion", shell)
		if err != nil {
			t.Fatalf("completion %s: %v\n%s", shell, err, errOut)
		}
		if !strings.Contains(out, marker) {
			t.Errorf("completion %s: script lacks %q:\n%.300s", shell, marker, out)
		}
	}
	if _, _, err := runFlux(t, "", "completion", "tcsh"); err == nil || !strings.Contains(err.Error(), "bash") {
		t.Errorf("completion tcsh: want an error listing the shells, got %v", err)
	}
}
