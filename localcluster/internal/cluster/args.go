package cluster

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strconv"

	"github.com/driftless/driftless/localcluster/internal/kwokstage"
	"github.com/driftless/driftless/localcluster/internal/pki"
	"github.com/driftless/driftless/localcluster/internal/ports"
)

// Network ranges, sized for benchmarks with thousands of objects.
const (
	// ServiceCIDR leaves room for about a million ClusterIPs; a /24 ran out
	// at 254 Services.
	ServiceCIDR = "10.96.0.0/12"
	// PodCIDR is split into one /18 (16382 pod IPs) per node.
	PodCIDR = "10.128.0.0/10"
	// NodeMaskSize is the prefix length of each node's pod range.
	NodeMaskSize = 18
	// ServiceAccountIssuer is the issuer of service-account tokens.
	ServiceAccountIssuer = "https://kubernetes.default.svc.cluster.local"
)

// Listener names in the port set.
const (
	PortAPIServer         = "apiserver"
	PortEtcdClient        = "etcd-client"
	PortEtcdPeer          = "etcd-peer"
	PortControllerManager = "controller-manager"
	PortScheduler         = "scheduler"
	PortKWOK              = "kwok"
)

// PortNames lists every listener of a cluster.
func PortNames() []string {
	return []string{PortAPIServer, PortEtcdClient, PortEtcdPeer, PortControllerManager, PortScheduler, PortKWOK}
}

// FirstServiceIP is the ClusterIP of the kubernetes Service, which the API
// server's certificate must name.
func FirstServiceIP() net.IP {
	return net.IP(netip.MustParsePrefix(ServiceCIDR).Addr().Next().AsSlice())
}

// NodePodCIDR returns node i's share of PodCIDR.
func NodePodCIDR(i int) string {
	base := netip.MustParsePrefix(PodCIDR).Addr().As4()
	n := binary.BigEndian.Uint32(base[:]) + uint32(i)<<(32-NodeMaskSize)
	var out [4]byte
	binary.BigEndian.PutUint32(out[:], n)
	return netip.PrefixFrom(netip.AddrFrom4(out), NodeMaskSize).String()
}

// NodeInternalIP returns the address node i reports.
func NodeInternalIP(i int) string {
	n := 2 + i
	return fmt.Sprintf("172.18.%d.%d", n/256, n%256)
}

func url(scheme string, port int) string {
	return scheme + "://" + net.JoinHostPort(ports.Host, strconv.Itoa(port))
}

// EtcdFlags are etcd's flags: a single member on loopback, plain HTTP.
func EtcdFlags(l Layout, p ports.Set) []string {
	client, peer := url("http", p[PortEtcdClient]), url("http", p[PortEtcdPeer])
	return []string{
		"--name=localcluster",
		"--data-dir=" + l.Etcd(),
		"--listen-client-urls=" + client,
		"--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=localcluster=" + peer,
		// Writes still reach the files (the page cache) before etcd answers,
		// and a clean stop closes the database, so data survives a stop
		// and start; only a machine crash could lose the latest writes,
		// which is acceptable for a disposable local cluster and much
		// faster on slow disks.
		"--unsafe-no-fsync",
		"--quota-backend-bytes=" + strconv.Itoa(8<<30),
		"--log-level=warn",
	}
}

// APIServerFlags are kube-apiserver's flags.
func APIServerFlags(l Layout, p ports.Set, c *pki.Credentials) []string {
	return []string{
		"--etcd-servers=" + url("http", p[PortEtcdClient]),
		"--bind-address=" + ports.Host,
		"--advertise-address=" + ports.Host,
		"--secure-port=" + strconv.Itoa(p[PortAPIServer]),
		"--tls-cert-file=" + c.APIServer.CertFile,
		"--tls-private-key-file=" + c.APIServer.KeyFile,
		"--client-ca-file=" + c.CA.CertFile,
		"--service-account-issuer=" + ServiceAccountIssuer,
		"--service-account-key-file=" + c.ServiceAccountPub,
		"--service-account-signing-key-file=" + c.ServiceAccountKey,
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--authorization-mode=RBAC",
		// Request-header authentication for the aggregation layer; the other
		// components read it from kube-system/extension-apiserver-authentication
		// and report errors while it is missing.
		"--requestheader-client-ca-file=" + c.CA.CertFile,
		"--requestheader-allowed-names=" + pki.FrontProxyIdentity().CommonName,
		"--requestheader-username-headers=X-Remote-User",
		"--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + c.FrontProxy.CertFile,
		"--proxy-client-key-file=" + c.FrontProxy.KeyFile,
		"--allow-privileged=true",
		// Endpoints may not point at loopback, and nothing runs in the
		// cluster that would call the API server through its Service.
		"--endpoint-reconciler-type=none",
		"--max-requests-inflight=1000",
		"--max-mutating-requests-inflight=500",
	}
}

// ControllerManagerFlags are kube-controller-manager's flags: a high client
// rate (at the default of 20 QPS it, not the workload, is what benchmarks
// measure) and more workers for the controllers that do the most work.
func ControllerManagerFlags(l Layout, p ports.Set, c *pki.Credentials) []string {
	kubeconfig := filepath.Join(l.Config(), "controller-manager.kubeconfig")
	return []string{
		"--kubeconfig=" + kubeconfig,
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=" + ports.Host,
		"--secure-port=" + strconv.Itoa(p[PortControllerManager]),
		"--tls-cert-file=" + c.ControllerManagerServing.CertFile,
		"--tls-private-key-file=" + c.ControllerManagerServing.KeyFile,
		"--leader-elect=false",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file=" + c.ServiceAccountKey,
		"--root-ca-file=" + c.CA.CertFile,
		"--cluster-signing-cert-file=" + c.CA.CertFile,
		"--cluster-signing-key-file=" + c.CA.KeyFile,
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--kube-api-qps=500",
		"--kube-api-burst=1000",
		"--concurrent-deployment-syncs=20",
		"--concurrent-replicaset-syncs=20",
		"--concurrent-namespace-syncs=20",
		"--concurrent-statefulset-syncs=20",
		"--concurrent-daemonset-syncs=20",
		"--concurrent-job-syncs=20",
		"--concurrent-service-endpoint-syncs=20",
		"--concurrent-gc-syncs=40",
	}
}

// SchedulerFlags are kube-scheduler's flags; its client rate and leader
// election are set in its configuration file, SchedulerConfig.
func SchedulerFlags(l Layout, p ports.Set, c *pki.Credentials) []string {
	kubeconfig := filepath.Join(l.Config(), "scheduler.kubeconfig")
	return []string{
		"--config=" + filepath.Join(l.Config(), "scheduler.yaml"),
		"--authentication-kubeconfig=" + kubeconfig,
		"--authorization-kubeconfig=" + kubeconfig,
		"--bind-address=" + ports.Host,
		"--secure-port=" + strconv.Itoa(p[PortScheduler]),
		"--tls-cert-file=" + c.SchedulerServing.CertFile,
		"--tls-private-key-file=" + c.SchedulerServing.KeyFile,
	}
}

// SchedulerConfig is the scheduler's KubeSchedulerConfiguration.
func SchedulerConfig(l Layout) []byte {
	return fmt.Appendf(nil, `apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: %q
  qps: 500
  burst: 1000
leaderElection:
  leaderElect: false
`, filepath.Join(l.Config(), "scheduler.kubeconfig"))
}

// KWOKFlags are KWOK's flags: it manages only the nodes localcluster
// annotates and serves its health endpoint on loopback.
func KWOKFlags(l Layout, p ports.Set) []string {
	return []string{
		"--kubeconfig=" + filepath.Join(l.Config(), "kwok.kubeconfig"),
		"--config=" + filepath.Join(l.Config(), "kwok.yaml"),
		"--manage-nodes-with-annotation-selector=" + kwokstage.NodeAnnotation + "=" + kwokstage.NodeAnnotationValue,
		"--server-address=" + net.JoinHostPort(ports.Host, strconv.Itoa(p[PortKWOK])),
		"--cidr=" + PodCIDR,
	}
}
