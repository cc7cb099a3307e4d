package image_test

import (
	"testing"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/controller/image"
)

// TestReflectorGroup: the group is named as --controllers spells it,
// reconciles both kinds and has its own storage flag, apart from the
// artifact server's --storage-path.
func TestReflectorGroup(t *testing.T) {
	c := image.Reflector()
	if c.Name != "image-reflector" || len(c.Objects) != 2 {
		t.Errorf("group %q with %d kinds", c.Name, len(c.Objects))
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	c.Flags(fs)
	f := fs.Lookup("image-storage-path")
	if f == nil || f.DefValue != image.DefaultStoragePath {
		t.Fatalf("--image-storage-path: %+v", f)
	}
	if fs.Lookup("storage-path") != nil {
		t.Error("the group binds the process's --storage-path")
	}
	if err := fs.Parse([]string{"--image-storage-path=/var/images"}); err != nil || f.Value.String() != "/var/images" {
		t.Errorf("parse: %v, value %s", err, f.Value)
	}
}
