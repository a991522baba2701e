package webhook

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportsNoAWS keeps this package usable outside Lambda (local stack, department tooling): the arch
// test allows adapters to import AWS, this one holds webhook to a stricter rule.
func TestImportsNoAWS(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, bad := range []string{"github.com/aws/", "github.com/awslabs/"} {
			if strings.HasPrefix(dep, bad) {
				t.Errorf("webhook depends on %s", dep)
			}
		}
	}
}
