package builders

import (
	"context"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// Bounds of the minimum wage an admin may set (whole yuan).
const (
	MaxMinimumMonth = 100_000
	MaxMinimumDay   = 5_000
)

// SettingsInput is what an admin saves.
type SettingsInput struct {
	MinimumWage MinimumWage `json:"minimumWage"`
}

// Check returns ErrInvalid unless both minimums are set and within bounds.
func (in SettingsInput) Check() error {
	m := in.MinimumWage
	if m.Month < 1 || m.Month > MaxMinimumMonth {
		return ErrInvalid.With("minimumWage.month is 1..%d yuan", MaxMinimumMonth)
	}
	if m.Day < 1 || m.Day > MaxMinimumDay {
		return ErrInvalid.With("minimumWage.day is 1..%d yuan", MaxMinimumDay)
	}
	return nil
}

// Settings are the service's settings (admins only).
func (s *Service) Settings(ctx context.Context, p auth.Principal) (Settings, error) {
	if err := requireAdmin(p); err != nil {
		return Settings{}, err
	}
	return s.store.BuildersSettings(ctx)
}

// PutSettings saves the settings; the same minimum wage re-sent answers the settings and writes nothing.
func (s *Service) PutSettings(ctx context.Context, p auth.Principal, in SettingsInput) (Settings, error) {
	if err := requireAdmin(p); err != nil {
		return Settings{}, err
	}
	if err := in.Check(); err != nil {
		return Settings{}, err
	}
	cur, err := s.store.BuildersSettings(ctx)
	if err != nil {
		return Settings{}, err
	}
	if cur.MinimumWage == in.MinimumWage && !cur.UpdatedAt.IsZero() {
		return cur, nil
	}
	st := Settings{MinimumWage: in.MinimumWage, UpdatedAt: s.clock(), UpdatedBy: p.Sub}
	if err := s.store.PutBuildersSettings(ctx, st); err != nil {
		return Settings{}, err
	}
	return st, nil
}
