// Package controllertest is the kit the integration tests of every
// controller share: it starts the real controllers against a test cluster
// as driftless-controller wires them, waits on objects with bounded polls
// that report the last state seen, pokes objects the way a user or the CLI
// does (updates, patches, reconcile requests), and checks that a status
// follows kstatus as the reconcile skeleton promises.
//
//	var (
//		env  *testcluster.Cluster
//		kube client.Client
//	)
//
//	func TestMain(m *testing.M) {
//		testcluster.Main(m, testcluster.Options{Setup: func(c *testcluster.Cluster) (func(), error) {
//			var err error
//			if kube, err = controllertest.Client(c); err != nil {
//				return nil, err
//			}
//			return controllertest.StartControllers(c, []manager.Controller{source.Controller()}, nil)
//		}}, &env)
//	}
//
//	func TestSomething(t *testing.T) {
//		repo := create(t, env.Namespace(t), ...)
//		got := controllertest.WaitReady(t, kube, repo) // also checks kstatus
//		controllertest.RequestReconcile(t, kube, got, "now")
//		controllertest.WaitEvent(t, env.Kube, got, corev1.EventTypeNormal, "", "stored artifact")
//	}
//
// Only tests import it: it starts managers and fails tests, nothing a
// program wants.
package controllertest
