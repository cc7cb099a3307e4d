package cli

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
	"github.com/driftless/driftless/internal/kinds"
)

// readyColumns is the READY and MESSAGE columns: the Ready condition, or
// False and "waiting to be reconciled" before the controller wrote one. A
// static object (a HelmRepository of type oci) has no status and reads as
// Ready, as in Flux.
func readyColumns(o meta.Object) (status, message string) {
	if msg := kinds.StaticMessage(o); msg != "" {
		return string(metav1.ConditionTrue), msg
	}
	for _, c := range o.GetConditions() {
		if c.Type == meta.ReadyCondition {
			return string(c.Status), c.Message
		}
	}
	return string(metav1.ConditionFalse), "waiting to be reconciled"
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

func (s *statusSelector) matches(o meta.Object) bool {
	if s == nil {
		return true
	}
	if kinds.StaticMessage(o) != "" {
		return strings.EqualFold(s.condType, meta.ReadyCondition) && strings.EqualFold(s.status, "true")
	}
	for _, c := range o.GetConditions() {
		if strings.EqualFold(c.Type, s.condType) {
			return strings.EqualFold(string(c.Status), s.status)
		}
	}
	// No condition yet reads as Ready=False, as in the table.
	return strings.EqualFold(s.condType, meta.ReadyCondition) && strings.EqualFold(s.status, "false")
}
