package dispatch

import (
	eventv1 "github.com/driftless/driftless/api/event/v1beta1"
	"github.com/driftless/driftless/api/notification/v1beta3"
)

// isCommitStatus tells whether the provider type sets commit statuses.
func isCommitStatus(providerType string) bool {
	switch providerType {
	case v1beta3.GitHubProvider, v1beta3.GitLabProvider, v1beta3.GiteaProvider,
		v1beta3.BitbucketProvider, v1beta3.BitbucketServerProvider, v1beta3.AzureDevOpsProvider:
		return true
	}
	return false
}

// isChangeRequest tells whether the provider type comments on a pull or
// merge request.
func isChangeRequest(providerType string) bool {
	switch providerType {
	case v1beta3.GitHubPullRequestCommentProvider, v1beta3.GitLabMergeRequestCommentProvider,
		v1beta3.GiteaPullRequestCommentProvider:
		return true
	}
	return false
}

// route tells whether a provider of type providerType gets the event (its
// metadata cleaned and merged), and when not, why (the dropped reason of
// the metrics):
//   - an event marked "<group>/commit_status: update" goes only to the
//     commit-status and generic providers;
//   - a commit-status provider gets only those, error events, and events
//     naming a commit (event.toolkit.fluxcd.io/commit);
//   - a change-request provider gets only events naming a change request
//     (event.toolkit.fluxcd.io/change_request).
func route(providerType string, e *eventv1.Event) (bool, string) {
	group, _ := e.GroupVersion()
	update := group != "" && e.HasMetadata(group+"/"+eventv1.MetaCommitStatusKey, eventv1.MetaCommitStatusUpdateValue)
	switch {
	case isCommitStatus(providerType):
		_, commit := e.Metadata[eventv1.Group+"/"+eventv1.MetaCommitKey]
		if update || e.Severity == eventv1.EventSeverityError || commit {
			return true, ""
		}
		return false, "not_commit_status"
	case update && providerType != v1beta3.GenericProvider && providerType != v1beta3.GenericHMACProvider:
		return false, "commit_status_update"
	case isChangeRequest(providerType):
		if _, ok := e.Metadata[eventv1.Group+"/"+eventv1.MetaChangeRequestKey]; ok {
			return true, ""
		}
		return false, "no_change_request"
	}
	return true, ""
}
