//go:build !linux

package supervisor

import "syscall"

// procAttr puts each child in its own process group, so a terminal's Ctrl-C
// reaches only the supervisor. Without Linux's parent-death signal, children
// rely on the supervisor to stop them.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
