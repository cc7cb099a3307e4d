package install

import (
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Where the UI's Secrets are mounted in the container that serves it, and
// the volumes that hold them. The controller reads the files by these
// paths (--web-tls-cert, --web-tls-key, --web-auth-proxy-ca).
const (
	webTLSDir            = "/etc/driftless/web-tls"
	webAuthProxyDir      = "/etc/driftless/web-auth-proxy"
	webTLSVolume         = "web-tls"
	webAuthProxyCAVolume = "web-auth-proxy"
	webTLSSecretFlag     = "--web-tls-secret"
	webAuthProxyCAFlag   = "--web-auth-proxy-ca-secret"
)

// validateWebSecrets refuses UI Secrets the install cannot use: without
// the UI, a proxy CA without TLS (client certificates need it), or names
// the API server would refuse, so that the mistake shows before anything
// is applied, naming the flag to fix.
func (o Options) validateWebSecrets() error {
	for _, s := range []struct{ flag, name string }{
		{webTLSSecretFlag, o.WebTLSSecret},
		{webAuthProxyCAFlag, o.WebAuthProxyCASecret},
	} {
		if s.name == "" {
			continue
		}
		if !o.Web {
			return fmt.Errorf("%s needs the web UI (--web); drop %s or leave --web on", s.flag, s.flag)
		}
		if errs := validation.IsDNS1123Subdomain(s.name); len(errs) > 0 {
			return fmt.Errorf("invalid %s %q: a Secret name must be a DNS-1123 subdomain: %s", s.flag, s.name, strings.Join(errs, "; "))
		}
	}
	if o.WebAuthProxyCASecret != "" && o.WebTLSSecret == "" {
		return errors.New(webAuthProxyCAFlag + " needs " + webTLSSecretFlag + ": the UI checks the proxy's client " +
			"certificate, which only TLS carries; name the Secret holding tls.crt and tls.key with " + webTLSSecretFlag)
	}
	return nil
}

// mountWebSecrets mounts the UI's Secrets read-only on the Deployment obj
// that serves the UI, and points the arguments of its container c at
// them. A proxy CA in the TLS Secret (cert-manager writes ca.crt beside
// tls.crt) is read from that one mount: one Secret, one volume.
func mountWebSecrets(obj *unstructured.Unstructured, c map[string]any, o Options) error {
	if o.WebTLSSecret == "" {
		return nil
	}
	type mount struct{ volume, secret, dir string }
	mounts := []mount{{webTLSVolume, o.WebTLSSecret, webTLSDir}}
	args := []any{"--web-tls-cert=" + webTLSDir + "/tls.crt", "--web-tls-key=" + webTLSDir + "/tls.key"}
	switch o.WebAuthProxyCASecret {
	case "":
	case o.WebTLSSecret:
		args = append(args, "--web-auth-proxy-ca="+webTLSDir+"/ca.crt")
	default:
		mounts = append(mounts, mount{webAuthProxyCAVolume, o.WebAuthProxyCASecret, webAuthProxyDir})
		args = append(args, "--web-auth-proxy-ca="+webAuthProxyDir+"/ca.crt")
	}
	volumes, _, err := unstructured.NestedSlice(obj.Object, "spec", "template", "spec", "volumes")
	if err != nil {
		return fmt.Errorf("reading the pod's volumes: %w", err)
	}
	volumeMounts, _ := c["volumeMounts"].([]any)
	for _, m := range mounts {
		volumes = append(volumes, map[string]any{"name": m.volume, "secret": map[string]any{"secretName": m.secret}})
		volumeMounts = append(volumeMounts, map[string]any{"name": m.volume, "mountPath": m.dir, "readOnly": true})
	}
	c["volumeMounts"] = volumeMounts
	c["args"] = append(c["args"].([]any), args...)
	return unstructured.SetNestedSlice(obj.Object, volumes, "spec", "template", "spec", "volumes")
}
