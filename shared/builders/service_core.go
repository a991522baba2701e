package builders

import "time"

// Store is the Service's store: employers, settings and worker profiles (EmployerStore, employer.go) and
// jobs and matching (JobStore, job.go).
type Store interface {
	EmployerStore
	JobStore
}

// Service is employers, settings, worker profiles, jobs and matching.
type Service struct {
	store Store
	tz    *time.Location
	now   func() time.Time
}

// NewService builds the Service. tz is the city's time zone (local days); now is the clock.
func NewService(store Store, tz *time.Location, now func() time.Time) *Service {
	if tz == nil {
		tz = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, tz: tz, now: now}
}
