package bucket

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	s3 "github.com/driftless/driftless/internal/engine/bucket"
)

// memory is each Bucket's last fetch, in this process only: the index the
// stored artifact was built from, so that the next new revision downloads
// only what changed. A restart forgets it, and the next fetch is full.
type memory struct {
	mu sync.Mutex
	m  map[types.NamespacedName]lastFetch
}

// lastFetch is one Bucket's last fetch.
type lastFetch struct {
	// uid tells a Bucket from a new one of the same name.
	uid types.UID
	// source is what the index was listed from: a spec that lists
	// something else makes it useless.
	source source
	// revision and digest are the artifact's, index what it holds.
	revision, digest string
	index            s3.Index
}

// source is the part of a Bucket's spec that decides what a listing holds.
type source struct {
	provider, endpoint, bucketName, region, prefix, ignore string
	insecure                                               bool
}

func sourceOf(obj *sourcev1.Bucket) source {
	s := source{provider: obj.Spec.Provider, endpoint: obj.Spec.Endpoint, bucketName: obj.Spec.BucketName,
		region: obj.Spec.Region, prefix: obj.Spec.Prefix, insecure: obj.Spec.Insecure}
	if obj.Spec.Ignore != nil {
		s.ignore = "\x00" + *obj.Spec.Ignore
	}
	return s
}

// remember keeps f as obj's last fetch.
func (m *memory) remember(obj *sourcev1.Bucket, f lastFetch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil {
		m.m = map[types.NamespacedName]lastFetch{}
	}
	f.uid, f.source = obj.UID, sourceOf(obj)
	m.m[types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}] = f
}

// last is obj's last fetch when it still describes obj's stored artifact:
// the same object, the same spec, the artifact of the same revision.
func (m *memory) last(obj *sourcev1.Bucket) (lastFetch, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.m[types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name}]
	a := obj.Status.Artifact
	if !ok || f.uid != obj.UID || f.source != sourceOf(obj) || a == nil || a.Revision != f.revision || a.Digest != f.digest {
		return lastFetch{}, false
	}
	return f, true
}

// files is how many files obj's stored artifact holds, when this process
// fetched it.
func (m *memory) files(obj *sourcev1.Bucket) (int, bool) {
	f, ok := m.last(obj)
	if !ok {
		return 0, false
	}
	return f.index.Len(), true
}

// forget drops obj's last fetch (the Bucket is deleted).
func (m *memory) forget(obj *sourcev1.Bucket) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, types.NamespacedName{Namespace: obj.Namespace, Name: obj.Name})
}
