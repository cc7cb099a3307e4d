package supervisor

import "syscall"

// procAttr puts each child in its own process group, so a terminal's Ctrl-C
// reaches only the supervisor (which then stops the children in order), and
// has the kernel kill the child if the supervisor dies without stopping it.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
