package cli

import (
	"bytes"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/driftless/driftless/internal/controller/helm"
	imagereflector "github.com/driftless/driftless/internal/controller/image"
	"github.com/driftless/driftless/internal/controller/imageautomation"
	"github.com/driftless/driftless/internal/controller/kustomize"
	"github.com/driftless/driftless/internal/controller/notification"
	"github.com/driftless/driftless/internal/controller/notification/ingest"
	"github.com/driftless/driftless/internal/controller/notification/receiver"
	"github.com/driftless/driftless/internal/controller/source"
	"github.com/driftless/driftless/internal/manager"
	"github.com/driftless/driftless/internal/testkit/controllertest"
	"github.com/driftless/driftless/internal/testkit/testcluster"
)

// The CLI tests run against a real cluster with the source, kustomize, helm,
// notification, image-reflector and image-automation controllers running, so commands that wait (reconcile,
// resume, create receiver) see the real status they wait for.
var (
	env  *testcluster.Cluster
	kube client.Client
	// receiverAddr is where the notification group's webhook server
	// listens, for `flux trigger receiver`.
	receiverAddr string
)

func TestMain(m *testing.M) {
	testcluster.Main(m, testcluster.Options{Setup: startControllers}, &env)
}

func startControllers(c *testcluster.Cluster) (func(), error) {
	var err error
	if kube, err = controllertest.Client(c); err != nil {
		return nil, err
	}
	if receiverAddr, err = freeAddr(); err != nil {
		return nil, err
	}
	// The image reflector keeps scanned tags in its own directory, never
	// under the artifact storage.
	images, err := os.MkdirTemp("", "driftless-cli-images-")
	if err != nil {
		return nil, err
	}
	reflector := imagereflector.DefaultReflectorOptions()
	reflector.StoragePath = images
	controllers := []manager.Controller{source.Controller(), kustomizeController(), helm.Controller(), notificationController(),
		imagereflector.NewReflector(reflector), imageautomation.Controller()}
	stop, err := controllertest.StartControllers(c, controllers,
		func(o *manager.Options) {
			o.LeaderElectionID = "driftless-cli-test"
			// Flux's sharding: objects labelled with a shard key belong to
			// another controller, here none, and the tests that make them
			// answer for the controller themselves (answerRequests).
			o.WatchLabelSelector = "!" + shardKey
		})
	if err != nil {
		os.RemoveAll(images)
		return nil, err
	}
	return func() {
		stop()
		os.RemoveAll(images)
	}, nil
}

// kustomizeController is the kustomize group with the flags' defaults, but
// artifact downloads retried twice only, so a refused one fails fast.
func kustomizeController() manager.Controller {
	o := kustomize.DefaultOptions()
	o.HTTPRetry = 2
	return kustomize.New(o)
}

// notificationController is the notification group with its ingestion
// endpoint off and its webhook server on a free local port (receiverAddr),
// so that tests in parallel packages do not collide on Flux's :9292.
func notificationController() manager.Controller {
	return notification.New(notification.Options{
		Ingest:            ingest.Options{ListenAddr: "0"},
		Receiver:          receiver.Options{Addr: receiverAddr},
		RateLimitInterval: 5 * time.Minute,
	})
}

// freeAddr is a local address no one listens on now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// runFlux runs the flux command line in-process against the test cluster
// and returns what it printed. stdin may be "".
func runFlux(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	f := NewFactory(strings.NewReader(stdin), &out, &errOut)
	f.Getenv = func(string) string { return "" }
	root := NewRootCommand("v0.0.0-test", f)
	root.SetArgs(append([]string{"--kubeconfig", env.Kubeconfig()}, args...))
	err = root.Execute()
	return out.String(), errOut.String(), err
}
