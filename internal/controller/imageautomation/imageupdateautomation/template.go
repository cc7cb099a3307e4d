package imageupdateautomation

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	imagev1 "github.com/driftless/driftless/api/image/v1"
	"github.com/driftless/driftless/internal/engine/commitmessage"
	"github.com/driftless/driftless/internal/reconcile"
)

// reconcileTemplate parses the message template: one that does not parse
// or reads a removed field stalls; one that reads a deprecated field is
// rendered, with a Warning event once per generation.
func (r *Reconciler) reconcileTemplate(_ context.Context, obj *imagev1.ImageUpdateAutomation, p *reconcile.Pass, s *Run) error {
	commit := obj.Spec.GitSpec.Commit
	m, err := commitmessage.Parse(commit.MessageTemplate, commit.MessageTemplateValues)
	var parseErr *commitmessage.ParseError
	var removed *commitmessage.RemovedFieldError
	switch {
	case errors.As(err, &parseErr):
		return reconcile.Stalling(imagev1.UpdateFailedReason, "failed to parse commit message template: %s", parseErr.Err)
	case errors.As(err, &removed):
		return reconcile.Stalling(imagev1.RemovedTemplateFieldReason, "%s", removed.Error())
	case err != nil:
		return err
	}
	if field := m.Deprecated(); field != "" && obj.Generation != obj.Status.ObservedGeneration {
		p.Event(corev1.EventTypeWarning, imagev1.RemovedTemplateFieldReason, fmt.Sprintf(
			"template uses '%s', which Flux has removed; it is rendered, but use %s", field, commitmessage.Instead))
	}
	s.message = m
	return nil
}
