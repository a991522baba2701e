package moto

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// TestPythonPatches runs the unittest suites of the moto patches (test_*.py beside this file) with the
// virtualenv's python, which has the pinned moto.
func TestPythonPatches(t *testing.T) {
	t.Parallel()
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "infra", "moto")
	python := filepath.Join(root, ".venv", "bin", "python")
	cmd := exec.CommandContext(t.Context(), python, "-m", "unittest", "discover", "-s", dir, "-t", dir, "-p", "test_*.py")
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s -m unittest discover %s: %v (run `make venv` if python is missing)\n%s", python, dir, err, out.String())
	}
	if lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")); len(lines) >= 3 {
		t.Log(string(bytes.Join(lines[len(lines)-3:], []byte(" "))))
	}
}
