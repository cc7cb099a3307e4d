package browser

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

func TestFindMissingBinarySkipsWithTheInstallLine(t *testing.T) {
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := find(missing, "")
	if err == nil || !errors.Is(err, errSkip) {
		t.Fatalf("missing binary outside CI: got %v, want a skip", err)
	}
	if !strings.Contains(err.Error(), InstallLine) || !strings.Contains(err.Error(), Binary+" not found") {
		t.Errorf("skip message %q does not name the binary and the install line", err)
	}
}

func TestFindMissingBinaryFailsUnderCI(t *testing.T) {
	missing := func(string) (string, error) { return "", exec.ErrNotFound }
	_, err := find(missing, "true")
	if err == nil || errors.Is(err, errSkip) {
		t.Fatalf("missing binary with CI=true: got %v, want a failure, not a skip", err)
	}
	if !strings.Contains(err.Error(), InstallLine) || !strings.Contains(err.Error(), "CI=true") {
		t.Errorf("failure message %q does not say why and how to install", err)
	}
}

func TestFindReturnsThePath(t *testing.T) {
	var asked string
	found := func(name string) (string, error) { asked = name; return "/usr/bin/" + name, nil }
	path, err := find(found, "true")
	if err != nil || path != "/usr/bin/"+Binary || asked != Binary {
		t.Fatalf("find = %q, %v (looked up %q)", path, err, asked)
	}
}

func TestSafeName(t *testing.T) {
	if got := safeName("TestPages/overview page#01"); got != "TestPages_overview_page_01" {
		t.Errorf("safeName = %q", got)
	}
}
