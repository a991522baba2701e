//go:build linux

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// TestStopSaveRestartAndMotoDeath runs the binary as `make run` does, with a state directory: Ctrl-C
// saves and exits 0, the next start loads what was saved, and when moto is killed the binary stops by
// itself, exits 1 and says why. (Linux: moto's process is found in /proc.)
func TestStopSaveRestartAndMotoDeath(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "civicsnap-local")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	state := filepath.Join(t.TempDir(), "state")

	first := startBinary(t, root, bin, state)
	first.waitFor(t, "no saved state in "+state)
	first.waitFor(t, "civicsnap local stack ready")
	if err := first.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	first.waitFor(t, "state saved to "+state)
	if err := first.wait(t); err != nil {
		t.Fatalf("exit after Ctrl-C = %v; want 0\n%s", err, first.stderr.String())
	}

	second := startBinary(t, root, bin, state)
	second.waitFor(t, "state loaded from "+state)
	second.waitFor(t, "civicsnap local stack ready")
	moto := childWithArg(t, second.cmd.Process.Pid, state)
	if err := syscall.Kill(moto, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = second.wait(t)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("exit after moto was killed = %v; want status 1", err)
	}
	msg := second.stderr.String()
	for _, want := range []string{"the stack stopped because moto exited unexpectedly (signal: killed)", "nothing was saved"} {
		if !strings.Contains(msg, want) {
			t.Errorf("stderr lacks %q:\n%s", want, msg)
		}
	}
}

type binary struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *bytes.Buffer
	done   chan error
}

func startBinary(t *testing.T, root, bin, state string) *binary {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "PORT=0", "CIVICSNAP_STATE_DIR="+state)
	b := &binary{cmd: cmd, lines: make(chan string, 100), stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = b.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-b.done
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.lines <- sc.Text()
		}
		close(b.lines)
		b.done <- cmd.Wait()
	}()
	return b
}

func (b *binary) waitFor(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-b.lines:
			if !ok {
				t.Fatalf("exited before printing %q\n%s", prefix, b.stderr.String())
			}
			if strings.HasPrefix(line, prefix) {
				return
			}
		case <-deadline:
			t.Fatalf("no line %q within 60 s", prefix)
		}
	}
}

func (b *binary) wait(t *testing.T) error {
	t.Helper()
	for range b.lines { // drain stdout so Wait can return
	}
	select {
	case err := <-b.done:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("still running 60 s later")
		return nil
	}
}

// childWithArg finds the child of parent whose command line has arg (moto, by its --state-dir).
func childWithArg(t *testing.T, parent int, arg string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command name, which is in parentheses: state, ppid, …
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(parent) {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte(arg)) {
			return pid
		}
	}
	t.Fatalf("no child of %d with %q", parent, arg)
	return 0
}
