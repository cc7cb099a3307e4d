// Package tenanttemplate keeps a Go template that a tenant wrote (a commit
// message, a Helm chart) from taking down the controller that renders it.
//
// A template runs in the controller's process, so three things must not
// be left to the template's author:
//   - memory: `repeat`, `indent` and `until` allocate what they are asked
//     to, and a string doubled in a loop grows without bound;
//   - a crash: `set $d "k" $d` makes a dictionary that contains itself, and
//     printing it recurses until the goroutine's stack overflows, which
//     Go cannot recover from: every tenant's reconciliation would stop;
//   - time: nested `range`s over `until` run for ever and keep a worker.
//
// Funcs closes the first two for any template engine that accepts
// replacement functions (Helm's included). Budget closes the third, and
// bounds memory as a whole, for templates this project parses itself.
package tenanttemplate

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"unsafe"
)

// Limits bound what one function call may make.
type Limits struct {
	// MaxString is the longest string repeat, indent and nindent return.
	MaxString int
	// MaxList is the longest list until and untilStep return.
	MaxList int
}

// Funcs are replacements for the functions of base (Sprig's map, or
// Helm's) that allocate what they are told to or mutate a dictionary: the
// same names and results, but refusing a result larger than the limits, or
// a dictionary that would contain itself. Put them over base: they shadow
// it. A mutator base lacks, or has with another signature than Sprig's,
// is a programming error and panics, so a Sprig upgrade cannot silently
// drop the check.
func Funcs(base template.FuncMap, l Limits) template.FuncMap {
	indent := func(n int, s string) (string, error) {
		lines := strings.Count(s, "\n") + 1
		if n < 0 || (n > 0 && lines > (l.MaxString-len(s))/n) {
			return "", fmt.Errorf("indent: %d spaces on each of %d lines is more than %d bytes", n, lines, l.MaxString)
		}
		pad := strings.Repeat(" ", n)
		return pad + strings.ReplaceAll(s, "\n", "\n"+pad), nil
	}
	untilStep := func(start, stop, step int) ([]int, error) {
		if step == 0 || (stop > start) != (step > 0) || start == stop {
			return []int{}, nil
		}
		// Counted in uint64: stop-start may overflow an int.
		span, stride := uint64(stop-start), uint64(step)
		if step < 0 {
			span, stride = uint64(start-stop), uint64(-step)
		}
		n := span / stride
		if span%stride != 0 {
			n++
		}
		if n > uint64(l.MaxList) {
			return nil, fmt.Errorf("untilStep: %d elements is more than %d", n, l.MaxList)
		}
		out := make([]int, 0, n)
		for i, v := uint64(0), start; i < n; i, v = i+1, v+step {
			out = append(out, v)
		}
		return out, nil
	}
	type dict = map[string]any
	set := base["set"].(func(dict, string, any) dict)
	merges := map[string]func(dict, ...dict) (any, error){}
	for _, name := range []string{"merge", "mergeOverwrite"} {
		f := base[name].(func(dict, ...dict) any)
		merges[name] = func(dst dict, srcs ...dict) (any, error) { return f(dst, srcs...), nil }
	}
	for _, name := range []string{"mustMerge", "mustMergeOverwrite"} {
		merges[name] = base[name].(func(dict, ...dict) (any, error))
	}
	out := template.FuncMap{
		"repeat": func(count int, s string) (string, error) {
			if count < 0 || (len(s) > 0 && count > l.MaxString/len(s)) {
				return "", fmt.Errorf("repeat: %d copies of %d bytes is more than %d bytes", count, len(s), l.MaxString)
			}
			return strings.Repeat(s, count), nil
		},
		"indent": indent,
		"nindent": func(n int, s string) (string, error) {
			out, err := indent(n, s)
			return "\n" + out, err
		},
		"until": func(count int) ([]int, error) {
			if count < 0 {
				return untilStep(0, count, -1)
			}
			return untilStep(0, count, 1)
		},
		"untilStep": untilStep,
		"set": func(d dict, key string, value any) (dict, error) {
			if err := refuseCycle("set", d, value); err != nil {
				return nil, err
			}
			return set(d, key, value), nil
		},
	}
	for name, merge := range merges {
		out[name] = func(dst dict, srcs ...dict) (any, error) {
			// A deep merge writes into dst and into every dictionary
			// under it, so no source may hold any of those.
			if dst != nil {
				into := map[unsafe.Pointer]bool{}
				mapsUnder(reflect.ValueOf(dst), into, map[seenKey]bool{})
				for _, src := range srcs {
					if reaches(reflect.ValueOf(src), into, map[seenKey]bool{}) {
						return nil, fmt.Errorf("%s: a source holds a dictionary of the destination, which would contain itself", name)
					}
				}
			}
			return merge(dst, srcs...)
		}
	}
	return out
}

// refuseCycle fails when value reaches the dictionary d: storing it in d
// would make d contain itself.
func refuseCycle(fn string, d map[string]any, value any) error {
	if d == nil {
		return nil
	}
	target := map[unsafe.Pointer]bool{reflect.ValueOf(d).UnsafePointer(): true}
	if reaches(reflect.ValueOf(value), target, map[seenKey]bool{}) {
		return fmt.Errorf("%s: the value holds the dictionary it is put in, which would contain itself", fn)
	}
	return nil
}

// seenKey is a container already walked: its address, and its length for
// slices (two slices of one array may differ in length).
type seenKey struct{ ptr, len uintptr }

// mapsUnder adds to into every map v is or holds.
func mapsUnder(v reflect.Value, into map[unsafe.Pointer]bool, seen map[seenKey]bool) {
	walk(v, seen, func(m reflect.Value) bool {
		into[m.UnsafePointer()] = true
		return false
	})
}

// reaches tells whether v is, or holds, one of the maps in targets.
func reaches(v reflect.Value, targets map[unsafe.Pointer]bool, seen map[seenKey]bool) bool {
	return walk(v, seen, func(m reflect.Value) bool { return targets[m.UnsafePointer()] })
}

// walk calls found with every map v is or holds through maps, slices,
// arrays, structs, pointers and interfaces, until found returns true; it
// returns whether one did. seen stops at containers already walked, so
// shared (but acyclic) values are walked once and a cycle ends the walk.
func walk(v reflect.Value, seen map[seenKey]bool, found func(reflect.Value) bool) bool {
	for v.IsValid() && (v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer) {
		if v.IsNil() {
			return false
		}
		if v.Kind() == reflect.Pointer {
			k := seenKey{ptr: v.Pointer()}
			if seen[k] {
				return false
			}
			seen[k] = true
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return false
	}
	switch v.Kind() {
	case reflect.Map:
		if v.IsNil() {
			return false
		}
		if found(v) {
			return true
		}
		k := seenKey{ptr: v.Pointer()}
		if seen[k] {
			return false
		}
		seen[k] = true
		for it := v.MapRange(); it.Next(); {
			if walk(it.Value(), seen, found) {
				return true
			}
		}
	case reflect.Slice:
		if v.IsNil() || v.Len() == 0 {
			return false
		}
		k := seenKey{ptr: v.Pointer(), len: uintptr(v.Len())}
		if seen[k] {
			return false
		}
		seen[k] = true
		for i := range v.Len() {
			if walk(v.Index(i), seen, found) {
				return true
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			if walk(v.Index(i), seen, found) {
				return true
			}
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if walk(v.Field(i), seen, found) {
				return true
			}
		}
	}
	return false
}
