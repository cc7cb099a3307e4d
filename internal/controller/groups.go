// Package controller is the one list of the controller groups
// driftless-controller runs; each group (source, kustomize, helm,
// notification, image-reflector, image-automation, source-watcher) registers its kinds, its
// flags and what it serves in its own package beneath.
package controller

import (
	"github.com/driftless/driftless/internal/controller/helm"
	"github.com/driftless/driftless/internal/controller/image"
	"github.com/driftless/driftless/internal/controller/imageautomation"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/notification"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/controller/sourcewatcher"
	"github.com/driftless/driftless/internal/manager"
)

// All are the available controller groups, in the order of
// names.Implemented, each with its flags at their defaults until the
// command line binds them.
func All() []manager.Controller {
	return []manager.Controller{source.Controller(), kustomize.Controller(), helm.Controller(), notification.Controller(), image.Reflector(),
		imageautomation.Controller(), sourcewatcher.Controller()}
}
