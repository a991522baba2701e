package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/civicsnap/civicsnap/infra/motoserver"
)

// TestReadmeWalkthrough runs the README's walk-through block verbatim against the running stack.
func TestReadmeWalkthrough(t *testing.T) {
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "```bash walkthrough\n")
	if !ok {
		t.Fatal("README has no ```bash walkthrough block")
	}
	script, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("walkthrough block is not closed")
	}
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "API="+checkedProxy(t)) // curl's /v1 exchanges are checked against the OpenAPI document
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("walk-through failed: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "street_light\ndispatched" {
		t.Errorf("walk-through printed %q, want street_light and dispatched", got)
	}
}
