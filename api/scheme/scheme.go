// Package scheme builds the runtime.Scheme that knows every Driftless kind
// and the built-in Kubernetes kinds. It lives under api/ so that the flux
// command line, the controller manager and the tests share one scheme without
// the command line linking the manager: like the rest of api/, it imports
// only k8s.io/apimachinery, k8s.io/api and client-go's scheme package.
package scheme

import (
	"errors"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	helmv2 "github.com/driftless/driftless/api/helm/v2"
	imagev1 "github.com/driftless/driftless/api/image/v1"
	kustomizev1 "github.com/driftless/driftless/api/kustomize/v1"
	notificationv1 "github.com/driftless/driftless/api/notification/v1"
	notificationv1beta3 "github.com/driftless/driftless/api/notification/v1beta3"
	sourcev1 "github.com/driftless/driftless/api/source/v1"
	sourceextv1beta1 "github.com/driftless/driftless/api/sourceextensions/v1beta1"
)

// New returns a fresh scheme with every Driftless kind and the built-in
// kinds registered. client-go's AddToScheme registers the built-in groups
// (core, apps, rbac...) exactly as client-go's own clients know them, so the
// list follows the client-go version instead of being kept here by hand.
func New() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	err := errors.Join(
		clientgoscheme.AddToScheme(s),
		sourcev1.AddToScheme(s),
		kustomizev1.AddToScheme(s),
		helmv2.AddToScheme(s),
		notificationv1.AddToScheme(s),
		notificationv1beta3.AddToScheme(s),
		imagev1.AddToScheme(s),
		sourceextv1beta1.AddToScheme(s),
	)
	return s, err
}
