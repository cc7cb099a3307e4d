package reconcile

import (
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/driftless/driftless/api/meta"
)

// MarkTrue sets condition t to True.
func MarkTrue(obj meta.Conditioned, t, reason, message string) {
	set(obj, t, metav1.ConditionTrue, reason, message)
}

// MarkFalse sets condition t to False.
func MarkFalse(obj meta.Conditioned, t, reason, message string) {
	set(obj, t, metav1.ConditionFalse, reason, message)
}

// MarkUnknown sets condition t to Unknown.
func MarkUnknown(obj meta.Conditioned, t, reason, message string) {
	set(obj, t, metav1.ConditionUnknown, reason, message)
}

// Delete removes condition t.
func Delete(obj meta.Conditioned, t string) {
	c := obj.GetConditions()
	apimeta.RemoveStatusCondition(&c, t)
	obj.SetConditions(c)
}

// Get returns condition t, or nil.
func Get(obj meta.Conditioned, t string) *metav1.Condition {
	return apimeta.FindStatusCondition(obj.GetConditions(), t)
}

// IsTrue tells whether condition t is True.
func IsTrue(obj meta.Conditioned, t string) bool {
	return apimeta.IsStatusConditionTrue(obj.GetConditions(), t)
}

func set(obj meta.Conditioned, t string, status metav1.ConditionStatus, reason, message string) {
	c := obj.GetConditions()
	apimeta.SetStatusCondition(&c, metav1.Condition{
		Type:               t,
		Status:             status,
		Reason:             reason,
		Message:            truncate(message),
		ObservedGeneration: obj.GetGeneration(),
	})
	obj.SetConditions(c)
}

// maxMessage is the API limit of metav1.Condition.Message.
const maxMessage = 32768

func truncate(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	return s[:maxMessage-3] + "..."
}

// ConditionSet declares the conditions a kind's steps own and how Ready is
// summarised from them.
type ConditionSet struct {
	// NegativePolarity lists, most important first, the conditions that mean
	// trouble when True (FetchFailed, StorageOperationFailed...). The first
	// one that is True decides Ready=False.
	NegativePolarity []string
	// Owned lists the other conditions the steps set (ArtifactInStorage,
	// SourceVerified...); they are kept as the steps left them.
	Owned []string
}
