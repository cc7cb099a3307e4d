package release

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"

	helmrelease "helm.sh/helm/v4/pkg/release/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v2 "github.com/driftless/driftless/api/helm/v2"
	"github.com/driftless/driftless/internal/engine/helmvalues"
)

// SnapshotAPIVersion is the version of the snapshot format: how Digest is
// computed (the JSON encoding of the record, Helm's own field names).
const SnapshotAPIVersion = "v2"

// Digester hashes with one of the --snapshot-digest-algo algorithms.
type Digester struct{ algo string }

// NewDigester returns the digester of algo: sha256 (the default, for ""),
// sha384 or sha512.
func NewDigester(algo string) (Digester, error) {
	switch algo {
	case "", "sha256":
		return Digester{"sha256"}, nil
	case "sha384", "sha512":
		return Digester{algo}, nil
	}
	return Digester{}, fmt.Errorf("unsupported snapshot digest algorithm %q: use sha256, sha384 or sha512", algo)
}

// Of returns "<algo>:<hex>" of data.
func (d Digester) Of(data []byte) string {
	var h hash.Hash
	switch d.algo {
	case "sha384":
		h = sha512.New384()
	case "sha512":
		h = sha512.New()
	default:
		h = sha256.New()
	}
	h.Write(data)
	return d.name() + ":" + hex.EncodeToString(h.Sum(nil))
}

// Values returns the digest of release values, as helmvalues computes
// the desired one (Flux's format, so a release Flux made is not upgraded
// for nothing when Driftless takes it over).
func (d Digester) Values(values map[string]any) (string, error) {
	return helmvalues.DigestWith(d.name(), values)
}

func (d Digester) name() string {
	if d.algo == "" {
		return "sha256"
	}
	return d.algo
}

// Record returns the digest of a release record: what status.history keeps
// to tell the record this object made from one changed behind its back.
func (d Digester) Record(rls *helmrelease.Release) (string, error) {
	js, err := json.Marshal(rls)
	if err != nil {
		return "", fmt.Errorf("encode release %s.v%d: %w", rls.Name, rls.Version, err)
	}
	return d.Of(js), nil
}

// Observe reads a release record as State compares it: its chart, the
// digest of its values and of itself, and the HelmRelease its labels name.
func (d Digester) Observe(rls *helmrelease.Release) (*Stored, error) {
	if rls == nil {
		return nil, nil
	}
	s := &Stored{Name: rls.Name, Namespace: rls.Namespace, Version: rls.Version,
		OwnerName: rls.Labels[v2.NameLabel], OwnerNamespace: rls.Labels[v2.NamespaceLabel],
		PostRenderStrategy: rls.Labels[PostRenderStrategyLabel]}
	if rls.Info != nil {
		s.Status = string(rls.Info.Status)
	}
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		s.ChartName, s.ChartVersion = rls.Chart.Metadata.Name, rls.Chart.Metadata.Version
	}
	var err error
	if s.ConfigDigest, err = d.Values(rls.Config); err != nil {
		return nil, err
	}
	if s.Digest, err = d.Record(rls); err != nil {
		return nil, err
	}
	return s, nil
}

// Snapshot is the status.history entry of a release record. chartVersion
// is the version the object asked for (with its +<digest> suffix for an
// OCIRepository chartRef), ociDigest the artifact's digest ("" for none).
func (d Digester) Snapshot(rls *helmrelease.Release, chartVersion, ociDigest string) (v2.Snapshot, error) {
	st, err := d.Observe(rls)
	if err != nil {
		return v2.Snapshot{}, err
	}
	snap := v2.Snapshot{APIVersion: SnapshotAPIVersion, Digest: st.Digest, Name: st.Name, Namespace: st.Namespace,
		Version: st.Version, Status: st.Status, ChartName: st.ChartName, ChartVersion: chartVersion,
		ConfigDigest: st.ConfigDigest, OCIDigest: ociDigest}
	if snap.ChartVersion == "" {
		snap.ChartVersion = st.ChartVersion
	}
	if rls.Chart != nil && rls.Chart.Metadata != nil {
		snap.AppVersion = rls.Chart.Metadata.AppVersion
	}
	if i := rls.Info; i != nil {
		snap.FirstDeployed, snap.LastDeployed = metav1.NewTime(i.FirstDeployed), metav1.NewTime(i.LastDeployed)
		if !i.Deleted.IsZero() {
			deleted := metav1.NewTime(i.Deleted)
			snap.Deleted = &deleted
		}
	}
	return snap, nil
}

// Record adds snap to history (newest first; a snapshot of the same
// release version replaces it) and keeps what Flux keeps: every snapshot
// down to the newest successful one (deployed or superseded), at most
// maxHistory of them (0: no bound beyond that).
func Record(history []v2.Snapshot, snap v2.Snapshot, maxHistory int) []v2.Snapshot {
	out := []v2.Snapshot{snap}
	for _, s := range history {
		if s.Name == snap.Name && s.Namespace == snap.Namespace && s.Version == snap.Version {
			continue
		}
		out = append(out, s)
	}
	for i, s := range out {
		if s.Status == StatusDeployed || s.Status == StatusSuperseded {
			out = out[:i+1]
			break
		}
	}
	if maxHistory > 0 && len(out) > maxHistory {
		out = out[:maxHistory]
	}
	return out
}
