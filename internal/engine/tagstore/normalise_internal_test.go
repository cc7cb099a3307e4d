package tagstore

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// A list already sorted and distinct is stored as it is; any other is
// normalised the same way, without changing the caller's slice.
func TestNormalise(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{[]string{"b", "a", "b", ""}, []string{"a", "b"}},
		{[]string{"a", "a"}, []string{"a"}},
		{[]string{"a", "b\nc"}, []string{"a"}},
		{nil, nil},
	} {
		in := slices.Clone(c.in)
		got := normalise(in)
		if !slices.Equal(got, c.want) || !slices.Equal(in, c.in) {
			t.Errorf("normalise(%q) = %q, input now %q", c.in, got, in)
		}
		if want := []byte(strings.Join(c.want, "\n") + "\n"); len(c.want) > 0 && !bytes.Equal(encode(got), want) {
			t.Errorf("encode(%q) = %q", got, encode(got))
		}
	}
}
