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
//   - a commit-status provider gets only events marked
//     "<group>/commit_status: update", error events, and events naming a
//     commit (event.toolkit.fluxcd.io/commit);
//   - every other provider gets update-marked events too: Flux keeps them
//     from chat because its appliers send one every interval, while
//     Driftless's send theirs once per revision or recovery, and that
//     "Applied revision: …, reconciliation finished …" is what an info
//     Alert on an applier is for (the mission's example 09);
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
	case isChangeRequest(providerType):
		if _, ok := e.Metadata[eventv1.Group+"/"+eventv1.MetaChangeRequestKey]; ok {
			return true, ""
		}
		return false, "no_change_request"
	}
	return true, ""
}
