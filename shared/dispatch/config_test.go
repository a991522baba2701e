package dispatch

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
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

// adminStore keeps departments in memory and counts writes.
type adminStore struct {
	AdminStore
	depts  []Department
	writes int
}

func (s *adminStore) Departments(context.Context) ([]Department, error) { return s.depts, nil }
func (s *adminStore) Areas(context.Context) ([]Area, error)             { return nil, nil }
func (s *adminStore) Rules(context.Context) ([]Rule, error)             { return nil, nil }
func (s *adminStore) Categories(context.Context) ([]report.Category, error) {
	return nil, nil
}
func (s *adminStore) PutDepartment(context.Context, Department) error { s.writes++; return nil }

// A department's secretRef, once set, never changes, and a new department's sits under the city's prefix:
// the fuzzer's "ap/local/dept/housing" (a well-formed name of no secret) made every signed callback of
// housing a 500.
func TestPutDepartmentKeepsSecretRefsReadable(t *testing.T) {
	tests := []struct {
		id, ref string
		ok      bool
	}{
		{"housing", "civicsnap/local/dept/housing", true},
		{"housing", "", true},
		{"housing", "ap/local/dept/housing", false},
		{"housing", "civicsnap/prod/dept/housing", false},
		{"parks", "civicsnap/local/dept/parks", true},
		{"parks", "civicsnap/other/dept/parks", false},
		{"parks", "", true},
	}
	for _, tt := range tests {
		st := &adminStore{depts: []Department{
			{ID: "housing", NameZH: "住建", SecretRef: "civicsnap/local/dept/housing"},
			{ID: "command_center", NameZH: "调度中心"},
		}}
		adm := NewAdmin(st, NewDirectory(st, time.Minute, time.UTC, time.Now), func(string) error { return nil })
		err := adm.PutDepartment(context.Background(), tt.id, Department{ID: tt.id, NameZH: "x", SecretRef: tt.ref})
		if (err == nil) != tt.ok || st.writes != map[bool]int{true: 1, false: 0}[tt.ok] {
			t.Errorf("%s %q: %v, %d writes; want ok %v", tt.id, tt.ref, err, st.writes, tt.ok)
		}
	}
}
