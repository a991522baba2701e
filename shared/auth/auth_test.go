package auth

import (
	"errors"
	"testing"
)

func TestRequire(t *testing.T) {
	tests := []struct {
		name  string
		p     Principal
		roles []Role
		want  error
	}{
		{"citizen ok", Principal{Sub: "u1", Groups: []Role{Citizen}}, []Role{Citizen}, nil},
		{"staff or admin, is admin", Principal{Sub: "u1", Groups: []Role{Admin}}, []Role{Staff, Admin}, nil},
		{"citizen not staff", Principal{Sub: "u1", Groups: []Role{Citizen}}, []Role{Staff}, ErrForbidden},
		{"no groups", Principal{Sub: "u1"}, []Role{Citizen}, ErrForbidden},
		{"anonymous", Principal{}, []Role{Citizen}, ErrUnauthenticated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Require(tt.roles...); !errors.Is(got, tt.want) && !(got == nil && tt.want == nil) {
				t.Errorf("Require = %v, want %v", got, tt.want)
			}
		})
	}
}
