package oci

import "fmt"

// CloudProviderUnsupported is what the controller and the command line
// both say of a cloud provider ("aws", "azure", "gcp"): signing in with its
// workload identity is not built, so static credentials must stand in.
func CloudProviderUnsupported(provider string) string {
	cloud := map[string]string{"aws": "AWS", "azure": "Azure", "gcp": "GCP"}[provider]
	if cloud == "" {
		cloud = provider
	}
	return fmt.Sprintf("provider '%s' needs %s workload identity, which is not built in Driftless yet", provider, cloud)
}
