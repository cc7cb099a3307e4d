package bucket

import (
	"strings"
	"testing"
)

func TestCheckKeysRefusesUnsafeKeys(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []string
		bad  string // the key the error must name
		why  string
	}{
		{"dotdot", []string{"a/../../etc/passwd"}, "a/../../etc/passwd", ".. path segment"},
		{"dotdot alone", []string{".."}, "..", ".. path segment"},
		{"leading slash", []string{"/abs"}, "/abs", "starts with /"},
		{"backslash", []string{`a\b`}, `a\b`, "backslash"},
		{"nul", []string{"a\x00b"}, "a\x00b", "NUL"},
		{"empty segment", []string{"a//b"}, "a//b", "empty path segment"},
		{"dot segment", []string{"a/./b"}, "a/./b", ". path segment"},
		{"file and prefix", []string{"a", "a/b"}, "a", `directory of "a/b"`},
		{"file and deep prefix", []string{"a-b", "x/y", "x/y/z/w"}, "x/y", `directory of "x/y/z/w"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var objs []Object
			for _, k := range tc.keys {
				objs = append(objs, Object{Key: k, ETag: "e"})
			}
			objs = newIndex(objs).Objects
			err := checkKeys(objs)
			if !IsUnsafeKey(err) {
				t.Fatalf("checkKeys(%q) = %v, want an UnsafeKeyError", tc.keys, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, quote(tc.bad)) || !strings.Contains(msg, tc.why) || !strings.Contains(msg, "spec.ignore") {
				t.Errorf("message %q does not name key %q, reason %q and spec.ignore", msg, tc.bad, tc.why)
			}
		})
	}
}

func TestCheckKeysAcceptsOrdinaryKeys(t *testing.T) {
	objs := newIndex([]Object{
		{Key: "a"}, {Key: "a-b/c"}, {Key: "a.b"}, {Key: "ab/c/d.yaml"}, {Key: "..hidden"}, {Key: "x/.y"}, {Key: "with space/ünïcode.yaml"},
	}).Objects
	if err := checkKeys(objs); err != nil {
		t.Fatalf("checkKeys: %v", err)
	}
}
