package dispatch

import (
	"strings"
	"testing"
)

// A department's secretRef must name its own secret: a ref to junk or to another department's secret used
// to be stored and then failed every signed callback of the department with a 500 (found by the fuzzer).
func TestDepartmentSecretRef(t *testing.T) {
	tests := []struct {
		ref string
		ok  bool
	}{
		{"", true},
		{"civicsnap/local/dept/municipal", true},
		{"civicsnap/prod/dept/municipal", true},
		{"civicsnap/local/dept/police", false},
		{"municipal", false},
		{"/dept/municipal", false},
		{"A_-A_-A_-", false},
		{"civicsnap/local/dept/municipal/x", false},
		{"civics nap/dept/municipal", false},
		{"路灯/dept/municipal", false},
		{strings.Repeat("a", 401) + "/dept/municipal", false},
		{strings.Repeat("a", 400) + "/dept/municipal", true},
	}
	for _, tt := range tests {
		d := Department{ID: "municipal", NameZH: "市政", SecretRef: tt.ref}
		if err := d.Validate(); (err == nil) != tt.ok {
			t.Errorf("secretRef %.60q: %v, want ok %v", tt.ref, err, tt.ok)
		}
	}
}
