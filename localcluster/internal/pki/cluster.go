package pki

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Credentials are every certificate and key a local cluster uses.
type Credentials struct {
	CA        *CA
	APIServer *KeyPair
	// ControllerManagerServing and SchedulerServing are the serving
	// certificates of those components' health endpoints.
	ControllerManagerServing *KeyPair
	SchedulerServing         *KeyPair
	Admin                    *KeyPair
	ControllerManager        *KeyPair
	Scheduler                *KeyPair
	KWOK                     *KeyPair
	// FrontProxy is the API server's client identity towards aggregated
	// API servers (the request-header authentication of the aggregator).
	FrontProxy *KeyPair
	// ServiceAccountKey and ServiceAccountPub are the files of the key pair
	// that signs and verifies service-account tokens.
	ServiceAccountKey string
	ServiceAccountPub string
}

// AdminIdentity is the cluster administrator: system:masters bypasses RBAC.
func AdminIdentity() Identity {
	return Identity{CommonName: "localcluster-admin", Organizations: []string{"system:masters"}, Client: true}
}

// ControllerManagerIdentity is the kube-controller-manager's client identity;
// the API server's bootstrap RBAC policy grants this user its permissions.
func ControllerManagerIdentity() Identity {
	return Identity{CommonName: "system:kube-controller-manager", Client: true}
}

// SchedulerIdentity is the kube-scheduler's client identity, also covered by
// the bootstrap RBAC policy.
func SchedulerIdentity() Identity {
	return Identity{CommonName: "system:kube-scheduler", Client: true}
}

// KWOKIdentity is KWOK's client identity. KWOK patches node and pod status
// and deletes pods on every node it manages, so it is an administrator.
func KWOKIdentity() Identity {
	return Identity{CommonName: "localcluster-kwok", Organizations: []string{"system:masters"}, Client: true}
}

// ServingIdentity is the identity of the API server's serving certificate:
// every name a client inside or outside the cluster may use for it.
func ServingIdentity(serviceIP net.IP) Identity {
	return Identity{
		CommonName: "kube-apiserver",
		DNSNames: []string{
			"localhost",
			"kubernetes",
			"kubernetes.default",
			"kubernetes.default.svc",
			"kubernetes.default.svc.cluster.local",
		},
		IPs:    []net.IP{net.IPv4(127, 0, 0, 1).To4(), serviceIP},
		Server: true,
	}
}

// FrontProxyIdentity is the aggregator's client identity; the API server
// accepts request headers only from this name.
func FrontProxyIdentity() Identity {
	return Identity{CommonName: "front-proxy-client", Client: true}
}

// LoopbackServingIdentity is the serving identity of a component that only
// listens on 127.0.0.1.
func LoopbackServingIdentity(name string) Identity {
	return Identity{CommonName: name, DNSNames: []string{"localhost"}, IPs: []net.IP{net.IPv4(127, 0, 0, 1).To4()}, Server: true}
}

// Ensure loads the credentials stored in dir, creating whatever is missing,
// expiring or no longer matching (for example after the CA was replaced).
func Ensure(dir string, serviceIP net.IP, now time.Time) (*Credentials, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki directory: %w", err)
	}
	ca, _, err := LoadOrCreateCA(dir, now)
	if err != nil {
		return nil, err
	}
	c := &Credentials{CA: ca}
	for _, leaf := range []struct {
		name string
		id   Identity
		dst  **KeyPair
	}{
		{"apiserver", ServingIdentity(serviceIP), &c.APIServer},
		{"controller-manager-serving", LoopbackServingIdentity("kube-controller-manager"), &c.ControllerManagerServing},
		{"scheduler-serving", LoopbackServingIdentity("kube-scheduler"), &c.SchedulerServing},
		{"admin", AdminIdentity(), &c.Admin},
		{"controller-manager", ControllerManagerIdentity(), &c.ControllerManager},
		{"scheduler", SchedulerIdentity(), &c.Scheduler},
		{"kwok", KWOKIdentity(), &c.KWOK},
		{"front-proxy-client", FrontProxyIdentity(), &c.FrontProxy},
	} {
		if *leaf.dst, err = ca.LoadOrIssue(dir, leaf.name, leaf.id, now); err != nil {
			return nil, err
		}
	}
	c.ServiceAccountKey, c.ServiceAccountPub = filepath.Join(dir, "sa.key"), filepath.Join(dir, "sa.pub")
	if err := ensureServiceAccountKey(c.ServiceAccountKey, c.ServiceAccountPub); err != nil {
		return nil, err
	}
	return c, nil
}

// ensureServiceAccountKey keeps an existing, readable key pair (tokens issued
// before a restart stay valid) and creates one otherwise.
func ensureServiceAccountKey(keyFile, pubFile string) error {
	keyPEM, err := os.ReadFile(keyFile)
	if err == nil {
		key, perr := ParseKey(keyPEM)
		if perr == nil {
			return writePublicKey(pubFile, key.Public())
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read service-account key: %w", err)
	}
	key, err := newKey()
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("encode service-account key: %w", err)
	}
	if err := WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return err
	}
	return writePublicKey(pubFile, key.Public())
}

func writePublicKey(path string, pub any) error {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("encode service-account public key: %w", err)
	}
	return WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
}

// Kubeconfig renders a kubeconfig for server that trusts ca and
// authenticates with the client certificate kp, everything embedded.
func Kubeconfig(server, name string, caPEM []byte, kp *KeyPair) ([]byte, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: kp.CertPEM, ClientKeyData: kp.KeyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	return data, nil
}
