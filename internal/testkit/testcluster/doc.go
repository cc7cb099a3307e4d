// Package testcluster gives tests a real Kubernetes control plane.
//
// It builds the localcluster binary once (make keeps it until its sources
// change), starts one cluster per test package from TestMain, and hands tests
// a rest.Config, clients, a fresh namespace per test and waits bounded by a
// timeout on observable state. No envtest binaries are downloaded: every
// component is built from source by localcluster/build.sh.
//
//	var env *testcluster.Cluster
//
//	func TestMain(m *testing.M) { testcluster.Main(m, testcluster.Options{}, &env) }
//
//	func TestSomething(t *testing.T) {
//		ns := env.Namespace(t)
//		...
//		testcluster.Eventually(t, 30*time.Second, "deployment available", func() (bool, error) { ... })
//	}
//
// Tests of controllers start them, wait on their objects and check kstatus
// with internal/testkit/controllertest, which builds on this package.
package testcluster
