// Package config holds the manifests Driftless installs: the generated CRDs
// (crd/bases) and the controller's namespace, RBAC, Deployment, Services and
// NetworkPolicies (manager). They are embedded so that `flux install` and
// `flux bootstrap` carry them inside the binary.
package config

import "embed"

// Manifests holds crd/bases/*.yaml and manager/*.yaml.
//
//go:embed crd/bases/*.yaml manager/*.yaml
var Manifests embed.FS
