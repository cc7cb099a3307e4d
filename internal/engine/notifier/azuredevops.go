package notifier

import (
	"context"
	"fmt"
	"net/http"
)

// azureDevOpsAPIVersion is the REST API version of the Git statuses calls.
const azureDevOpsAPIVersion = "6.0"

// azureDevOpsGenre is the genre of the statuses' context, Flux's.
const azureDevOpsGenre = "fluxcd"

// azureDevOpsHost sets Azure DevOps commit statuses
// (https://dev.azure.com/<org>/<project>/_apis/git/repositories/<repo>/commits/<sha>/statuses).
type azureDevOpsHost struct {
	s             Settings
	repo          string
	authorization string
}

func newAzureDevOpsStatus(s Settings) (Notifier, error) {
	const want = "the repository's URL, https://dev.azure.com/<org>/<project>/_git/<repo> (or https://<org>.visualstudio.com/<project>/_git/<repo>)"
	repo, err := parseRepositoryURL(s.Address)
	if err != nil {
		return nil, s.addressError(err.Error(), want)
	}
	// dev.azure.com names the organisation in the path, <org>.visualstudio.com
	// in the host, Azure DevOps Server a collection in the path.
	n, least := len(repo.segments), 3
	if repo.host == "dev.azure.com" {
		least = 4
	}
	if n < least || repo.segments[n-2] != "_git" {
		return nil, s.addressError("is not an Azure DevOps repository URL", want)
	}
	if s.Token == "" {
		return nil, &PermanentError{Err: fmt.Errorf("provider type %s needs the Secret's token (a personal access token)", s.Type)}
	}
	prefix := append([]string{}, repo.segments[:n-2]...)
	h := azureDevOpsHost{
		s:             s,
		repo:          repo.base(append(prefix, "_apis", "git", "repositories", repo.segments[n-1])...),
		authorization: basicAuth("", s.Token),
	}
	return &statusNotifier{host: h, s: s}, nil
}

func (azureDevOpsHost) state(severity string) (string, bool) {
	return severityState(severity, "succeeded", "failed")
}

func (azureDevOpsHost) descriptionLimit() int { return 255 }

// azureDevOpsStatus is a Git status of Azure DevOps.
type azureDevOpsStatus struct {
	ID          int64  `json:"id,omitempty"`
	State       string `json:"state"`
	Description string `json:"description"`
	Context     struct {
		Genre string `json:"genre"`
		Name  string `json:"name"`
	} `json:"context"`
}

func (h azureDevOpsHost) address(sha string) string {
	return h.repo + "/commits/" + sha + "/statuses?api-version=" + azureDevOpsAPIVersion
}

func (h azureDevOpsHost) header() http.Header {
	header := http.Header{}
	header.Set("Authorization", h.authorization)
	return header
}

func (h azureDevOpsHost) latest(ctx context.Context, sha, key string) (*commitStatus, error) {
	var answer struct {
		Value []azureDevOpsStatus `json:"value"`
	}
	if err := h.s.call(ctx, http.MethodGet, h.address(sha), h.header(), nil, &answer); err != nil {
		return nil, err
	}
	var newest *azureDevOpsStatus
	for i := range answer.Value {
		st := &answer.Value[i]
		if st.Context.Genre == azureDevOpsGenre && st.Context.Name == key && (newest == nil || st.ID > newest.ID) {
			newest = st
		}
	}
	if newest == nil {
		return nil, nil
	}
	return &commitStatus{State: newest.State, Description: newest.Description, Key: key}, nil
}

func (h azureDevOpsHost) create(ctx context.Context, sha string, status commitStatus) error {
	var body azureDevOpsStatus
	body.State, body.Description = status.State, status.Description
	body.Context.Genre, body.Context.Name = azureDevOpsGenre, status.Key
	return h.s.call(ctx, http.MethodPost, h.address(sha), h.header(), body, nil)
}
