package cli

import (
	"context"
	"fmt"
	"strings"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// readyCondition is the Ready condition of o, of kind k: for a static kind
// (Alert, Provider) the one its entry derives by reading what o refers to
// with c; for a static object of another kind (a HelmRepository of type
// oci) True with its message, as in Flux; otherwise the one the controller
// wrote, or nil before it wrote one.
func readyCondition(ctx context.Context, c client.Reader, k kinds.Kind, o kinds.Object) *metav1.Condition {
	if k.Derive != nil {
		cond := k.Derive(ctx, func(ctx context.Context, key types.NamespacedName, obj kinds.Object) error {
			return c.Get(ctx, key, obj)
		}, o)
		return &cond
	}
	if msg := kinds.StaticMessage(o); msg != "" {
		return &metav1.Condition{Type: meta.ReadyCondition, Status: metav1.ConditionTrue, Message: msg}
	}
	return apimeta.FindStatusCondition(kinds.Conditions(o), meta.ReadyCondition)
}

// readyColumns is the READY and MESSAGE columns: the Ready condition, or
// False and "waiting to be reconciled" before the controller wrote one.
func readyColumns(ready *metav1.Condition) (status, message string) {
	if ready == nil {
		return string(metav1.ConditionFalse), "waiting to be reconciled"
	}
	return string(ready.Status), ready.Message
}

// statusSelector is --status-selector: a condition type and the status it
// must have, both matched case-insensitively (ready=false).
type statusSelector struct{ condType, status string }

func parseStatusSelector(s string) (*statusSelector, error) {
	if s == "" {
		return nil, nil
	}
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return nil, fmt.Errorf("invalid --status-selector %q: use <condition>=<status>, for example ready=false", s)
	}
	return &statusSelector{condType: k, status: v}, nil
}

// matches tells whether o has the selected condition status; ready is its
// Ready condition (readyCondition), which for a static kind is the only one.
func (s *statusSelector) matches(o kinds.Object, ready *metav1.Condition) bool {
	if s == nil {
		return true
	}
	if strings.EqualFold(s.condType, meta.ReadyCondition) && ready != nil {
		return strings.EqualFold(string(ready.Status), s.status)
	}
	for _, c := range kinds.Conditions(o) {
		if strings.EqualFold(c.Type, s.condType) {
			return strings.EqualFold(string(c.Status), s.status)
		}
	}
	// No condition yet reads as Ready=False, as in the table.
	return strings.EqualFold(s.condType, meta.ReadyCondition) && strings.EqualFold(s.status, "false")
}
