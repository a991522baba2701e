//go:build unix

package motoserver

import (
	"os/exec"
	"syscall"
)

// setProcessGroup starts moto in its own process group, so Stop can signal everything it may have
// spawned, and a Ctrl-C meant for the parent's terminal does not kill moto behind the parent's back.
func setProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

func terminate(cmd *exec.Cmd) error { return signalGroup(cmd, syscall.SIGTERM) }

func kill(cmd *exec.Cmd) error { return signalGroup(cmd, syscall.SIGKILL) }

func signalGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	// With Setpgid the group id is the child's pid; a negative pid addresses the whole group.
	return syscall.Kill(-cmd.Process.Pid, sig)
}
