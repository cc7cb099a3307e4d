package helmdrift

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/driftless/driftless/internal/engine/apply"
)

// Correct re-applies the drifted objects of r and re-creates its missing
// ones from the release's objects themselves (never from the report's
// text), as the field manager helm-controller forcing conflicts, with the
// options r was detected with: ignored fields keep their live values, an
// object that opted out in the meantime is skipped. A re-created
// CustomResourceDefinition is waited for before the objects of its kind.
// The ChangeSet's String is the text of Flux's events (Kind/namespace/name
// created|configured); on error it lists what was corrected before the
// failure, and the error names the object.
func (d *Detector) Correct(ctx context.Context, r *Report) (*apply.ChangeSet, error) {
	if r == nil {
		return &apply.ChangeSet{}, errors.New("drift correction: no report")
	}
	var objs []*unstructured.Unstructured
	for _, e := range r.Corrections() {
		if e.object == nil {
			return &apply.ChangeSet{}, fmt.Errorf("drift correction of release %s: %s: the report does not hold the object: correct only a report of Detect", r.name(), e.Ref)
		}
		objs = append(objs, e.object)
	}
	if len(objs) == 0 {
		return &apply.ChangeSet{}, nil
	}
	cs, err := d.m.Reapply(ctx, objs, r.opts.compare())
	if err != nil {
		return cs, fmt.Errorf("drift correction of release %s: %w", r.name(), err)
	}
	return cs, nil
}
