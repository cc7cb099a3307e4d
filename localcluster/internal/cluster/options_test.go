package cluster

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	opts, err := Parse([]string{"--data-dir", "rel/dir", "--nodes=3", "--apply", "a.yaml", "--apply", "crds/", "--apiserver-port", "6443"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("rel/dir")
	if opts.DataDir != abs || opts.Nodes != 3 || opts.APIServerPort != 6443 || !slices.Equal(opts.Apply, []string{"a.yaml", "crds/"}) {
		t.Errorf("Parse = %+v", opts)
	}
}

func TestParseDefaults(t *testing.T) {
	opts, err := Parse([]string{"--data-dir=/tmp/x"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Nodes != 1 || opts.APIServerPort != 0 || len(opts.Apply) != 0 {
		t.Errorf("defaults = %+v", opts)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "--data-dir is required"},
		{[]string{"--data-dir="}, "--data-dir is required"},
		{[]string{"--data-dir=d", "--nodes=0"}, "--nodes must be between 1 and 256, got 0"},
		{[]string{"--data-dir=d", "--nodes=257"}, "--nodes must be between 1 and 256, got 257"},
		{[]string{"--data-dir=d", "--nodes=two"}, "invalid value \"two\" for flag -nodes"},
		{[]string{"--data-dir=d", "--apiserver-port=70000"}, "--apiserver-port must be between 1 and 65535, got 70000"},
		{[]string{"--data-dir=d", "--apiserver-port=-1"}, "--apiserver-port must be between 1 and 65535, got -1"},
		{[]string{"--data-dir=d", "--apply="}, "empty path"},
		{[]string{"--data-dir=d", "stray"}, "unexpected argument \"stray\""},
		{[]string{"--data-dir=d", "--bogus"}, "flag provided but not defined: -bogus"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := Parse(tc.args, &bytes.Buffer{})
			var usage *UsageError
			if !errors.As(err, &usage) {
				t.Fatalf("err = %v (%T), want *UsageError", err, err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestParseHelp(t *testing.T) {
	var out bytes.Buffer
	_, err := Parse([]string{"--help"}, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("err = %v, want flag.ErrHelp", err)
	}
	if !strings.Contains(out.String(), "Usage: localcluster --data-dir DIR") {
		t.Errorf("usage not printed: %q", out.String())
	}
}
