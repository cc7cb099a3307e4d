package reconcile

import (
	"slices"

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
// summarised from them. Every condition a step sets belongs in one of its
// two lists: the skeleton marks a typed error's condition by its polarity,
// summarises Ready from both lists, and clears what a complete pass left
// untouched.
type ConditionSet struct {
	// NegativePolarity lists, most important first, the conditions that mean
	// trouble when True (FetchFailed, StorageOperationFailed...).
	NegativePolarity []string
	// Owned lists, most important first, the conditions that mean trouble
	// when False (ArtifactInStorage, SourceVerified, Healthy, Released...).
	Owned []string
}

// negative tells whether t means trouble when True.
func (s ConditionSet) negative(t string) bool { return slices.Contains(s.NegativePolarity, t) }

// all lists every declared condition.
func (s ConditionSet) all() []string { return append(slices.Clone(s.NegativePolarity), s.Owned...) }

// trouble returns the condition that decides Ready=False after a pass whose
// steps all passed: the first negative-polarity condition that is True,
// else the first owned one that is False; nil when none is in trouble.
func (s ConditionSet) trouble(obj meta.Conditioned) *metav1.Condition {
	for _, t := range s.NegativePolarity {
		if c := Get(obj, t); c != nil && c.Status == metav1.ConditionTrue {
			return c
		}
	}
	for _, t := range s.Owned {
		if c := Get(obj, t); c != nil && c.Status == metav1.ConditionFalse {
			return c
		}
	}
	return nil
}
