package health

import (
	"fmt"
	"math"
	"strings"
)

// fields reads typed values from an unstructured object. The first malformed
// field it meets is kept in err, so a rule can read all it needs and check
// once; a malformed status makes the object Unknown, not a panic.
type fields struct {
	obj map[string]any
	err error
}

func (f *fields) lookup(path string) (any, bool) {
	var cur any = f.obj
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			if cur != nil && f.err == nil {
				f.err = fmt.Errorf(".%s: the parent of %q is %s, not an object", path, p, describe(cur))
			}
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	if cur == nil {
		return nil, false
	}
	return cur, true
}

// has tells whether the field is set.
func (f *fields) has(path string) bool {
	_, ok := f.lookup(path)
	return ok
}

// int returns an integer field, or def when it is not set. JSON numbers
// decoded into maps may be int64 or float64; both are accepted when whole.
func (f *fields) int(path string, def int64) int64 {
	v, ok := f.lookup(path)
	if !ok {
		return def
	}
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		if n == math.Trunc(n) && !math.IsInf(n, 0) {
			return int64(n)
		}
	}
	if f.err == nil {
		f.err = fmt.Errorf(".%s is %s, not an integer", path, describe(v))
	}
	return def
}

// str returns a string field, or "" when it is not set.
func (f *fields) str(path string) string {
	v, ok := f.lookup(path)
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok && f.err == nil {
		f.err = fmt.Errorf(".%s is %s, not a string", path, describe(v))
	}
	return s
}

// list returns a list field, or nil when it is not set.
func (f *fields) list(path string) []any {
	v, ok := f.lookup(path)
	if !ok {
		return nil
	}
	l, ok := v.([]any)
	if !ok && f.err == nil {
		f.err = fmt.Errorf(".%s is %s, not a list", path, describe(v))
	}
	return l
}

// condition is one entry of status.conditions.
type condition struct {
	Type, Status, Reason, Message string
}

// conditions returns status.conditions; entries that are not objects or have
// no type are a malformed status.
func (f *fields) conditions() []condition {
	var out []condition
	for i, item := range f.list("status.conditions") {
		m, ok := item.(map[string]any)
		if !ok {
			if f.err == nil {
				f.err = fmt.Errorf(".status.conditions[%d] is %s, not an object", i, describe(item))
			}
			continue
		}
		c := &fields{obj: m}
		cond := condition{Type: c.str("type"), Status: c.str("status"), Reason: c.str("reason"), Message: c.str("message")}
		if c.err != nil && f.err == nil {
			f.err = fmt.Errorf(".status.conditions[%d]%w", i, c.err)
		}
		out = append(out, cond)
	}
	return out
}

// find returns the condition of a type, or nil.
func find(conds []condition, typ string) *condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}

// isTrue tells whether the condition of a type is present and True.
func isTrue(conds []condition, typ string) bool {
	c := find(conds, typ)
	return c != nil && c.Status == "True"
}

// text is the condition's message, else its reason, else its type.
func (c *condition) text() string {
	switch {
	case c.Message != "":
		return c.Message
	case c.Reason != "":
		return c.Reason
	}
	return c.Type + " is " + c.Status
}

// describe names a JSON value's type, with the value when it is short.
func describe(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %t", x)
	case int64, int, int32, float64:
		return fmt.Sprintf("the number %v", x)
	}
	return fmt.Sprintf("a %T", v)
}
