// Package kwokstage holds the KWOK configuration localcluster runs KWOK with:
// its settings and the node and pod Stages that make fake nodes and their
// pods behave like real ones (Ready nodes, Running pods with IPs, finished
// Job pods, deleted pods removed).
package kwokstage

import (
	"bytes"
	_ "embed"
)

// NodeAnnotation marks the nodes KWOK manages; localcluster creates its nodes
// with it and starts KWOK with a selector for it.
const NodeAnnotation = "kwok.x-k8s.io/node"

// NodeAnnotationValue is the value of NodeAnnotation on managed nodes.
const NodeAnnotationValue = "fake"

// InternalIPAnnotation and KubeletVersionAnnotation carry the address and
// version the node stage reports for a node.
const (
	InternalIPAnnotation     = "localcluster.driftless.dev/internal-ip"
	KubeletVersionAnnotation = "localcluster.driftless.dev/kubelet-version"
)

//go:embed kwok.yaml
var settings []byte

//go:embed node.yaml
var nodeStages []byte

//go:embed pod.yaml
var podStages []byte

// ExitCodeAnnotation, set on a pod meant to finish (restartPolicy Never or
// OnFailure) to a non-zero exit code, makes its containers exit with it and
// the pod fail: how tests make a Helm hook or test pod fail.
const ExitCodeAnnotation = "localcluster.driftless.dev/exit-code"

// Config returns the multi-document YAML to pass to KWOK with --config.
func Config() []byte {
	return bytes.Join([][]byte{settings, nodeStages, podStages}, []byte("\n---\n"))
}
