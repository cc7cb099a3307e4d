// Package chart handles one Helm chart for the HelmChart source: it loads a
// chart from an archive or a directory under size limits and without
// following paths out of the chart, picks a version in a semver range,
// merges values files, builds dependencies and packages the result
// reproducibly. It is plain Go over Helm's SDK (helm.sh/helm/v4/pkg/chart/v2)
// and knows nothing of Kubernetes objects: the controller maps its errors
// to conditions and its repository URLs to HelmRepository objects.
package chart
