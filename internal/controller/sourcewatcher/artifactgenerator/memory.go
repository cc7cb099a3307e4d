package artifactgenerator

import (
	"crypto/sha256"
	"encoding/json"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	sourcev1 "github.com/driftless/driftless/api/source/v1"
	swv1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// fingerprint is what a generated ExternalArtifact was written as: its
// labels, annotations, spec and artifact, hashed.
type fingerprint [sha256.Size]byte

// fingerprintOf hashes the parts of ea the generator writes.
func fingerprintOf(ea *sourcev1.ExternalArtifact) fingerprint {
	b, _ := json.Marshal(struct {
		Labels, Annotations map[string]string
		Spec                sourcev1.ExternalArtifactSpec
		Artifact            any
	}{ea.Labels, ea.Annotations, ea.Spec, ea.Status.Artifact})
	return sha256.Sum256(b)
}

// memory remembers, per generator, the generation and sources digest of
// its last published pass and what each ExternalArtifact was written as.
// It lives in the process: after a restart the first pass builds again,
// which also restores whatever changed meanwhile.
type memory struct {
	mu  sync.Mutex
	all map[types.UID]published
}

type published struct {
	generation int64
	digest     string
	artifacts  map[string]fingerprint
}

// remember records a published pass.
func (m *memory) remember(obj *swv1.ArtifactGenerator, digest string, written []*sourcev1.ExternalArtifact) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.all == nil {
		m.all = map[types.UID]published{}
	}
	p := published{generation: obj.Generation, digest: digest, artifacts: map[string]fingerprint{}}
	for _, ea := range written {
		p.artifacts[ea.Namespace+"/"+ea.Name] = fingerprintOf(ea)
	}
	m.all[obj.UID] = p
}

// same tells whether the last published pass had this generation and
// these sources.
func (m *memory) same(obj *swv1.ArtifactGenerator, digest string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.all[obj.UID]
	return ok && p.generation == obj.Generation && p.digest == digest
}

// intact tells whether ea is as the last published pass wrote it.
func (m *memory) intact(obj *swv1.ArtifactGenerator, ea *sourcev1.ExternalArtifact) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.all[obj.UID].artifacts[ea.Namespace+"/"+ea.Name]
	return ok && f == fingerprintOf(ea)
}

// forget drops a deleted generator.
func (m *memory) forget(obj *swv1.ArtifactGenerator) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.all, obj.UID)
}
