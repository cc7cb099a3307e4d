package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    string
		wantErr string
	}{
		{args: []string{"--version"}, want: "flux version v1.2.3\n"},
		{args: []string{"version", "--client"}, want: "flux: v1.2.3\n"},
		{args: []string{"--kubeconfig", "/nonexistent", "version"}, wantErr: "no cluster to talk to"},
	} {
		var out bytes.Buffer
		root := NewRootCommand("v1.2.3", NewFactory(nil, &out, &out))
		root.SetArgs(tc.args)
		err := root.Execute()
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: want error containing %q, got %v", tc.args, tc.wantErr, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
		}
		if out.String() != tc.want {
			t.Errorf("%v: got %q, want %q", tc.args, out.String(), tc.want)
		}
	}
}
