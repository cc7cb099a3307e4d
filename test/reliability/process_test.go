package reliability

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// controller is one running driftless-controller process.
type controller struct {
	cmd     *exec.Cmd
	log     string
	storage string // host:port of the artifact server
	health  string // host:port of /healthz and /readyz
	exited  chan struct{}
	waitErr error
}

// procOptions say how to run a controller.
type procOptions struct {
	kubeconfig  string
	storagePath string   // a new temporary directory when empty
	storageAddr string   // a free port when empty
	advAddr     string   // the address put in artifact URLs; storageAddr when empty
	wrap        []string // a command that runs the controller, given as its arguments
	extra       []string // more flags
}

// startController runs the built controller on loopback ports, logging to a
// file that is shown when the test fails; the test's cleanup stops it.
func startController(t *testing.T, o procOptions) *controller {
	t.Helper()
	if o.storagePath == "" {
		o.storagePath = t.TempDir()
	}
	if o.storageAddr == "" {
		o.storageAddr = freeAddr(t)
	}
	if o.advAddr == "" {
		o.advAddr = o.storageAddr
	}
	c := &controller{log: filepath.Join(t.TempDir(), "controller.log"), storage: o.storageAddr, health: freeAddr(t), exited: make(chan struct{})}
	logFile, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{
		"--kubeconfig", o.kubeconfig,
		"--storage-path", o.storagePath, "--image-storage-path", o.storagePath + "-images",
		"--storage-addr", o.storageAddr, "--storage-adv-addr", o.advAddr,
		"--metrics-addr", "0", "--health-addr", c.health,
		"--events-listen-addr", "0", "--receiver-addr", "0",
		"--log-encoding", "console", "--min-retry-delay", "200ms", "--max-retry-delay", "3s",
	}, o.extra...)
	argv := append(append(append([]string{}, o.wrap...), controllerBin), args...)
	c.cmd = exec.Command(argv[0], argv[1:]...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.waitErr = c.cmd.Wait(); logFile.Close(); close(c.exited) }()
	t.Cleanup(func() {
		c.stop()
		if t.Failed() {
			t.Logf("driftless-controller log (%s):\n%s", c.log, tailFile(c.log, 80))
		}
	})
	return c
}

// kill sends SIGKILL, as the OOM killer or a node failure would, and waits
// for the process to be gone.
func (c *controller) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the controller outlived SIGKILL by 30s")
	}
}

// stop ends the process with SIGTERM, then SIGKILL after 30 seconds.
func (c *controller) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
	}
}

// running fails the test when the process has exited: a controller must
// ride out every fault of this suite, not die of it.
func (c *controller) running(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
		t.Fatalf("driftless-controller exited (%v):\n%s", c.waitErr, tailFile(c.log, 40))
	default:
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tailFile(path string, lines int) string {
	b, _ := os.ReadFile(path)
	l := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}

// copyFile copies src to a new file under the test's temporary directory.
func copyFile(t *testing.T, src string) string {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
