//go:build !unix

package motoserver

import "os/exec"

// Without Unix process groups and SIGTERM, the best available is to kill moto itself.
func setProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd) error { return cmd.Process.Kill() }

func kill(cmd *exec.Cmd) error { return cmd.Process.Kill() }
