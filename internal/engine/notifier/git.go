package notifier

// gitNotifiers are the Git host types: the commit statuses of github,
// gitlab, gitea, bitbucket, bitbucketserver and azuredevops, githubdispatch,
// and the change-request comments of githubpullrequestcomment,
// gitlabmergerequestcomment and giteapullrequestcomment.
func gitNotifiers() map[string]constructor {
	return map[string]constructor{}
}
