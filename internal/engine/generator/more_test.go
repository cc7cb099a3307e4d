package generator

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
)

func TestMoreBadInput(t *testing.T) {
	tree := map[string]string{
		"a.yaml":     "a",
		"outlink":    "->/",
		"dist/x.tgz": "",
		"big.tgz":    tarball(t, map[string]string{"big.yaml": strings.Repeat("x", 4096)}),
	}
	tests := []struct {
		name     string
		spec     Spec
		kind     error
		wantPath string
		wantMsg  string
	}{
		{"from through a directory link leaving the source", one(Copy{From: "@repo/outlink/etc/hostname", To: "@artifact/"}),
			ErrValidationFailed, "@repo/outlink/etc/hostname", "leaves the source through a link"},
		{"Extract of a directory", one(Copy{From: "@repo/dist/", To: "@artifact/", Strategy: StrategyExtract}),
			ErrBuildFailed, "@repo/dist", "not a directory"},
		{"Extract beyond the size limit", Spec{MaxExtractSize: 1024, Outputs: one(Copy{From: "@repo/big.tgz", To: "@artifact/", Strategy: StrategyExtract}).Outputs},
			ErrBuildFailed, "@repo/big.tgz", "maximum size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, map[string]map[string]string{"repo": tree}, tt.spec)
			assertError(t, err, tt.kind, tt.wantPath, tt.wantMsg)
		})
	}
}

func TestBadAlias(t *testing.T) {
	for _, alias := range []string{"", "artifact", "a/b", "a b"} {
		_, err := Generate(t.Context(), []Source{{Alias: alias, Dir: t.TempDir()}}, one(Copy{From: "@x/", To: "@artifact/"}), t.TempDir())
		assertError(t, err, ErrValidationFailed, "@"+alias, "rename it")
	}
}

func TestExecutableBitIsKept(t *testing.T) {
	base := t.TempDir()
	writeTree(t, base, map[string]string{"run.sh": "#!/bin/sh", "plain": "x"})
	if err := os.Chmod(base+"/run.sh", 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Generate(t.Context(), []Source{{Alias: "s", Dir: base}}, one(Copy{From: "@s/**", To: "@artifact/"}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, exec := range map[string]bool{"run.sh": true, "plain": false} {
		fi, err := os.Stat(res[0].Dir + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode()&0o111 != 0; got != exec {
			t.Errorf("%s executable = %v, want %v (mode %v)", name, got, exec, fi.Mode())
		}
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tmp := t.TempDir()
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a": "a"})
	_, err := Generate(ctx, []Source{{Alias: "s", Dir: src}}, one(Copy{From: "@s/a", To: "@artifact/"}), tmp)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("tmpDir holds %d entries after a cancelled run", len(entries))
	}
}
