package cluster

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/driftless/driftless/localcluster/internal/kwokstage"
	"github.com/driftless/driftless/localcluster/internal/pki"
)

func TestNetworkLayout(t *testing.T) {
	if got := FirstServiceIP().String(); got != "10.96.0.1" {
		t.Errorf("FirstServiceIP = %s", got)
	}
	service := netip.MustParsePrefix(ServiceCIDR)
	pods := netip.MustParsePrefix(PodCIDR)
	if service.Overlaps(pods) {
		t.Errorf("service range %s overlaps pod range %s", service, pods)
	}
	if size := 1 << (32 - service.Bits()); size < 10000 {
		t.Errorf("service range holds only %d addresses", size)
	}
	seen := map[string]bool{}
	for i := range MaxNodes {
		cidr := netip.MustParsePrefix(NodePodCIDR(i))
		if !pods.Contains(cidr.Addr()) || cidr.Bits() != NodeMaskSize {
			t.Fatalf("node %d range %s is not a /%d inside %s", i, cidr, NodeMaskSize, pods)
		}
		if seen[cidr.String()] {
			t.Fatalf("node %d range %s is used twice", i, cidr)
		}
		seen[cidr.String()] = true
		if ip := netip.MustParseAddr(NodeInternalIP(i)); pods.Contains(ip) || service.Contains(ip) {
			t.Fatalf("node %d address %s is inside a cluster range", i, ip)
		}
	}
	if got, want := NodePodCIDR(1), "10.128.64.0/18"; got != want {
		t.Errorf("NodePodCIDR(1) = %s, want %s", got, want)
	}
	if got, want := NodePodCIDR(MaxNodes-1), "10.191.192.0/18"; got != want {
		t.Errorf("NodePodCIDR(last) = %s, want %s", got, want)
	}
}

func TestNodeObject(t *testing.T) {
	node := NodeObject(1, "v1.36.3")
	if node.Name != "kwok-node-1" || node.Spec.PodCIDR != "10.128.64.0/18" {
		t.Errorf("node = %s %s", node.Name, node.Spec.PodCIDR)
	}
	if node.Annotations[kwokstage.NodeAnnotation] != kwokstage.NodeAnnotationValue {
		t.Errorf("node lacks the KWOK annotation: %v", node.Annotations)
	}
	if node.Annotations[kwokstage.KubeletVersionAnnotation] != "v1.36.3" || node.Annotations[kwokstage.InternalIPAnnotation] != "172.18.0.3" {
		t.Errorf("annotations = %v", node.Annotations)
	}
	if len(node.Spec.Taints) != 0 {
		t.Errorf("nodes must take ordinary pods, got taints %v", node.Spec.Taints)
	}
}

func TestComponentFlags(t *testing.T) {
	l := Layout{Dir: "/data"}
	p := map[string]int{PortAPIServer: 6443, PortEtcdClient: 2379, PortEtcdPeer: 2380, PortControllerManager: 10257, PortScheduler: 10259, PortKWOK: 10250}
	c := testCredentials(t)
	for _, tc := range []struct {
		name  string
		flags []string
		want  []string
	}{
		{"etcd", EtcdFlags(l, p), []string{"--data-dir=/data/etcd", "--listen-client-urls=http://127.0.0.1:2379", "--listen-peer-urls=http://127.0.0.1:2380"}},
		{"apiserver", APIServerFlags(l, p, c), []string{"--secure-port=6443", "--bind-address=127.0.0.1", "--etcd-servers=http://127.0.0.1:2379", "--service-cluster-ip-range=10.96.0.0/12"}},
		{"controller-manager", ControllerManagerFlags(l, p, c), []string{
			"--kube-api-qps=500", "--kube-api-burst=1000", "--leader-elect=false", "--secure-port=10257",
			"--concurrent-deployment-syncs=20", "--concurrent-replicaset-syncs=20", "--concurrent-namespace-syncs=20",
			"--service-account-private-key-file=" + c.ServiceAccountKey, "--root-ca-file=" + c.CA.CertFile,
		}},
		{"scheduler", SchedulerFlags(l, p, c), []string{"--config=/data/config/scheduler.yaml", "--secure-port=10259"}},
		{"kwok", KWOKFlags(l, p), []string{"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake", "--server-address=127.0.0.1:10250"}},
	} {
		for _, want := range tc.want {
			if !slices.Contains(tc.flags, want) {
				t.Errorf("%s flags lack %q: %v", tc.name, want, tc.flags)
			}
		}
		for _, f := range tc.flags {
			if strings.Contains(f, "0.0.0.0") {
				t.Errorf("%s listens beyond loopback: %s", tc.name, f)
			}
		}
	}
	cfg := string(SchedulerConfig(l))
	for _, want := range []string{"qps: 500", "leaderElect: false", `kubeconfig: "/data/config/scheduler.kubeconfig"`} {
		if !strings.Contains(cfg, want) {
			t.Errorf("scheduler config lacks %q:\n%s", want, cfg)
		}
	}
}

func TestPrepare(t *testing.T) {
	l := Layout{Dir: filepath.Join(t.TempDir(), "data")}
	if err := os.MkdirAll(l.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.Kubeconfig(), []byte("stale"), 0o600); err != nil {
		t.Fatal(err)
	}
	lock, err := l.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(l.Kubeconfig()); !os.IsNotExist(err) {
		t.Errorf("stale kubeconfig not removed: %v", err)
	}
	_, err = l.Prepare()
	if err == nil || !strings.Contains(err.Error(), "is in use by another localcluster (pid ") {
		t.Errorf("second Prepare = %v, want an in-use error", err)
	}
	lock.Close()
	again, err := l.Prepare()
	if err != nil {
		t.Fatalf("Prepare after unlock: %v", err)
	}
	again.Close()
}

func TestPrepareUnusableDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Layout{Dir: filepath.Join(file, "data")}.Prepare()
	if err == nil || !strings.Contains(err.Error(), "cannot create data directory") {
		t.Errorf("Prepare under a file = %v", err)
	}
}

func testCredentials(t *testing.T) *pki.Credentials {
	t.Helper()
	c, err := pki.Ensure(t.TempDir(), FirstServiceIP(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
