package cli

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/driftless/driftless/internal/install"
)

// addInstallFlags binds Flux's component flags, shared by install and
// bootstrap, to o (which holds the defaults).
func addInstallFlags(fs *pflag.FlagSet, o *install.Options) {
	fs.StringSliceVar(&o.Components, "components", o.Components, "controllers to install: "+strings.Join(install.Components[:4], ","))
	fs.StringSliceVar(&o.ComponentsExtra, "components-extra", o.ComponentsExtra, "additional controllers to install: "+strings.Join(install.Components[4:], ","))
	fs.StringVarP(&o.Version, "version", "v", o.Version, "version of the controller image to install")
	fs.StringVar(&o.Registry, "registry", o.Registry, "container registry the controller image is pulled from")
	fs.StringVar(&o.ImagePullSecret, "image-pull-secret", o.ImagePullSecret, "Secret (type kubernetes.io/dockerconfigjson) used to pull the image")
	fs.BoolVar(&o.NetworkPolicy, "network-policy", o.NetworkPolicy, "deny ingress to the controller from other namespaces, except metrics scraping")
	fs.BoolVar(&o.WatchAllNamespaces, "watch-all-namespaces", o.WatchAllNamespaces, "watch every namespace; false watches only the install namespace")
	fs.StringVar(&o.LogLevel, "log-level", o.LogLevel, "controller log level: debug, info or error")
	fs.StringVar(&o.ClusterDomain, "cluster-domain", o.ClusterDomain, "the cluster's DNS domain")
	fs.StringSliceVar(&o.TolerationKeys, "toleration-keys", o.TolerationKeys, "taint keys the controller pod tolerates")
	fs.BoolVar(&o.Web, "web", o.Web, "install the web UI: the controller serves it on :9080, behind the driftless-web Service (port-forward or your own ingress); false leaves it out")
	fs.StringVar(&o.WebTLSSecret, "web-tls-secret", o.WebTLSSecret, "serve the web UI over HTTPS with the certificate in this Secret of the install namespace "+
		"(type kubernetes.io/tls with tls.crt and tls.key, as cert-manager writes it); create the Secret yourself, the install only mounts it")
	fs.StringVar(&o.WebAuthProxyCASecret, "web-auth-proxy-ca-secret", o.WebAuthProxyCASecret, "let an authenticating proxy (single sign-on) log users in to the web UI: "+
		"the Secret of the install namespace whose ca.crt signs the proxy's client certificate (may be the --web-tls-secret one); "+
		"the UI trusts the proxy's X-Remote-User and X-Remote-Group headers and acts for those users by impersonation, "+
		"so the controller is granted impersonate on users and groups; needs --web-tls-secret")
	fs.BoolVar(&o.Split, "split", o.Split, "install one Deployment per controller, as Flux does, each with its own ServiceAccount; "+
		"only kustomize-controller is bound to cluster-admin, source-controller (the Git client and the artifact server) is not")
}
