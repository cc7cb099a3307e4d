package ignore

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestSymlinks(t *testing.T) {
	t.Run("linked directories are not walked", func(t *testing.T) {
		outside := writeTree(t, map[string]string{".sourceignore": "*.yaml\n"})
		root := writeTree(t, map[string]string{"a.txt": "x"})
		if err := os.Symlink(outside, filepath.Join(root, "linked")); err != nil {
			t.Fatal(err)
		}
		m, err := Load(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertChecks(t, m, []check{{"linked/a.yaml", false}, {"a.yaml", false}})
	})
	t.Run("linked ignore file inside the tree is read", func(t *testing.T) {
		root := writeTree(t, map[string]string{"rules": "*.yaml\n"})
		if err := os.Symlink("rules", filepath.Join(root, FileName)); err != nil {
			t.Fatal(err)
		}
		m, err := Load(root, nil)
		if err != nil {
			t.Fatal(err)
		}
		assertChecks(t, m, []check{{"a.yaml", true}})
	})
	t.Run("linked ignore file outside the tree is refused", func(t *testing.T) {
		outside := writeTree(t, map[string]string{"rules": "*.yaml\n"})
		root := writeTree(t, map[string]string{"sub/a": "x"})
		if err := os.Symlink(filepath.Join(outside, "rules"), filepath.Join(root, "sub", FileName)); err != nil {
			t.Fatal(err)
		}
		_, err := Load(root, nil)
		if err == nil || !strings.Contains(err.Error(), "reading sub/.sourceignore") {
			t.Errorf("Load: err = %v, want an error naming sub/.sourceignore", err)
		}
	})
}

func TestLoadErrors(t *testing.T) {
	big := strings.Repeat("a\n", MaxFileSize/2+1)
	tests := []struct {
		name  string
		setup func(t *testing.T) string
		spec  *string
		want  string
	}{
		{
			name:  "missing root",
			setup: func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") },
			want:  "loading ignore rules: stat",
		},
		{
			name: "root is a file",
			setup: func(t *testing.T) string {
				return filepath.Join(writeTree(t, map[string]string{"f": "x"}), "f")
			},
			want: "is not a directory",
		},
		{
			name: "oversized ignore file",
			setup: func(t *testing.T) string {
				return writeTree(t, map[string]string{"sub/.sourceignore": big})
			},
			want: "reading sub/.sourceignore: larger than 1048576 bytes",
		},
		{
			name:  "oversized spec",
			setup: func(t *testing.T) string { return t.TempDir() },
			spec:  &big,
			want:  "reading spec.ignore: larger than 1048576 bytes",
		},
		{
			name: "NUL byte in an ignore file",
			setup: func(t *testing.T) string {
				return writeTree(t, map[string]string{".sourceignore": "ok\nbad\x00\n"})
			},
			want: "reading .sourceignore: line 2 contains a NUL byte",
		},
		{
			name: "ignore file that is not a regular file",
			setup: func(t *testing.T) string {
				root := t.TempDir()
				if err := syscall.Mkfifo(filepath.Join(root, FileName), 0o644); err != nil {
					t.Fatal(err)
				}
				return root
			},
			want: "reading .sourceignore: not a regular file",
		},
		{
			name: "ignore file linked outside the tree",
			setup: func(t *testing.T) string {
				root := t.TempDir()
				if err := os.Symlink("/dev/null", filepath.Join(root, FileName)); err != nil {
					t.Fatal(err)
				}
				return root
			},
			want: "reading .sourceignore: openat .sourceignore: path escapes from parent",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.setup(t), tt.spec)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}
