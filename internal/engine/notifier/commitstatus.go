package notifier

import (
	"context"
	"errors"
	"fmt"
	"strings"

	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
)

// progressingReason is the reason of the events that say a reconcile
// started; a commit status waits for its outcome.
const progressingReason = "Progressing"

// CommitStatusKey is the default commit-status key of an event for a
// Provider: "<kind>/<name>/<first segment of the provider UID>", lower
// case, as Flux names it.
func CommitStatusKey(event eventv1.Event, providerUID string) string {
	uid, _, _ := strings.Cut(providerUID, "-")
	return strings.ToLower(event.InvolvedObject.Kind + "/" + event.InvolvedObject.Name + "/" + uid)
}

// statusKey is the key the commit status of the event goes under: the
// Provider's commitStatusExpr when it has one, else the default. A failing
// expression never falls back to the default key (that would post under a
// key nobody asked for).
func (s Settings) statusKey(event eventv1.Event) (string, error) {
	if s.CommitStatus == nil {
		return CommitStatusKey(event, s.ProviderUID), nil
	}
	key, err := s.CommitStatus(event)
	if err != nil {
		return "", &PermanentError{Err: fmt.Errorf("commitStatusExpr of the provider failed, no commit status posted: %w", err)}
	}
	if strings.TrimSpace(key) == "" {
		return "", &PermanentError{Err: errors.New("commitStatusExpr of the provider returned an empty key, no commit status posted")}
	}
	return key, nil
}

// revisionSHA reads the commit SHA of a revision: "main@sha1:<sha>",
// "sha1:<sha>", "<sha>" or the older "main/<sha>" (SHA-1, or SHA-256 for
// Git's SHA-256 repositories), returned in lower case.
func revisionSHA(revision string) (string, bool) {
	rev := revision
	if i := strings.LastIndex(rev, "@"); i >= 0 {
		rev = rev[i+1:]
	}
	if algo, sha, ok := strings.Cut(rev, ":"); ok {
		if algo != "sha1" && algo != "sha256" {
			return "", false
		}
		rev = sha
	} else if i := strings.LastIndex(rev, "/"); i >= 0 {
		rev = rev[i+1:]
	}
	if len(rev) != 40 && len(rev) != 64 {
		return "", false
	}
	for _, c := range rev {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return "", false
		}
	}
	return strings.ToLower(rev), true
}

// eventSHA is the commit an event is about: the object's
// event.toolkit.fluxcd.io/commit annotation when set (a HelmRelease's
// revision is a chart version), else the controller's <group>/revision.
func eventSHA(event eventv1.Event) (string, error) {
	commitKey := eventv1.Group + "/" + eventv1.MetaCommitKey
	if commit, ok := event.Metadata[commitKey]; ok {
		if sha, ok := revisionSHA(commit); ok {
			return sha, nil
		}
		return "", &PermanentError{Err: fmt.Errorf("metadata %s of %s %q is not a commit SHA, no commit status posted", commitKey, event.InvolvedObject.Kind, trim(commit, 80))}
	}
	group, _ := event.GroupVersion()
	revKey := group + "/" + eventv1.MetaRevisionKey
	revision, ok := event.Metadata[revKey]
	if !ok {
		return "", &PermanentError{Err: fmt.Errorf("the event of %s/%s has no %s or %s metadata, so it names no commit to set a status on", event.InvolvedObject.Kind, event.InvolvedObject.Name, revKey, commitKey)}
	}
	sha, ok := revisionSHA(revision)
	if !ok {
		return "", &PermanentError{Err: fmt.Errorf("revision %q of %s/%s has no commit SHA (want <branch>@sha1:<sha>), no commit status posted", trim(revision, 80), event.InvolvedObject.Kind, event.InvolvedObject.Name)}
	}
	return sha, nil
}

// description is a status's description: the message trimmed and cut to
// n characters, the hosts' limits counting characters.
func description(message string, n int) string {
	return cutRunes(strings.TrimSpace(message), n)
}

// commitStatus is one status of a commit: its state in the host's words,
// its description and key.
type commitStatus struct {
	State, Description, Key string
}

// statusHost is the part of a commit-status notifier that speaks one
// host's API.
type statusHost interface {
	// state is the host's word for a severity (Flux's mapping).
	state(severity string) (string, bool)
	// descriptionLimit is the longest description the host keeps.
	descriptionLimit() int
	// latest returns the newest status of the commit under the key, nil
	// when there is none.
	latest(ctx context.Context, sha, key string) (*commitStatus, error)
	// create posts a status on the commit.
	create(ctx context.Context, sha string, status commitStatus) error
}

// statusNotifier sets commit statuses through a host.
type statusNotifier struct {
	host statusHost
	s    Settings
}

// Post sets the status of the event's commit, unless the latest one under
// the same key says the same already.
func (n *statusNotifier) Post(ctx context.Context, event eventv1.Event) error {
	if event.Reason == progressingReason {
		return nil
	}
	state, ok := n.host.state(event.Severity)
	if !ok {
		return &PermanentError{Err: fmt.Errorf("severity %q has no commit status (want info or error)", event.Severity)}
	}
	sha, err := eventSHA(event)
	if err != nil {
		return err
	}
	key, err := n.s.statusKey(event)
	if err != nil {
		return err
	}
	status := commitStatus{State: state, Key: key, Description: description(event.Message, n.host.descriptionLimit())}
	latest, err := n.host.latest(ctx, sha, key)
	if err != nil {
		return fmt.Errorf("list the statuses of commit %s: %w", sha, err)
	}
	if latest != nil && latest.State == status.State && latest.Description == status.Description {
		return nil
	}
	if err := n.host.create(ctx, sha, status); err != nil {
		return fmt.Errorf("set the status %s of commit %s: %w", key, sha, err)
	}
	return nil
}

// severityState maps info and error to the host's words.
func severityState(severity, info, failure string) (string, bool) {
	switch severity {
	case eventv1.EventSeverityInfo:
		return info, true
	case eventv1.EventSeverityError:
		return failure, true
	}
	return "", false
}
