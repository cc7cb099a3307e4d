package bucket

import (
	"slices"
	"strings"
)

// Object is one listed or fetched object: its key in the bucket (the path
// of its file in the artifact), its ETag without quotes and its size.
type Object struct {
	Key  string
	ETag string
	Size int64
}

// Index is the set of objects that make up an artifact, sorted by key. The
// controller keeps the last fetched Index per Bucket in memory for the next
// incremental Fetch.
type Index struct {
	Objects []Object
}

// newIndex returns an Index of objs sorted by key.
func newIndex(objs []Object) Index {
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return Index{Objects: objs}
}

// Len returns the number of objects.
func (i Index) Len() int { return len(i.Objects) }

// Size returns the sum of the objects' sizes.
func (i Index) Size() int64 {
	var n int64
	for _, o := range i.Objects {
		n += o.Size
	}
	return n
}

// Lookup returns the object with key, if the index holds it.
func (i Index) Lookup(key string) (Object, bool) {
	objs := i.sorted()
	n, ok := slices.BinarySearchFunc(objs, key, func(o Object, k string) int { return strings.Compare(o.Key, k) })
	if !ok {
		return Object{}, false
	}
	return objs[n], true
}

// sorted returns the objects in key order, sorting a copy only when a caller
// built the Index by hand out of order.
func (i Index) sorted() []Object {
	if slices.IsSortedFunc(i.Objects, func(a, b Object) int { return strings.Compare(a.Key, b.Key) }) {
		return i.Objects
	}
	objs := slices.Clone(i.Objects)
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs
}
