package builders

import "time"

// Placeholders the engineers replace (H1: Service in its own files; H3: HireService; H4: FairService).
// Whoever removes the last one deletes this file.

// Store is the service's store (H1 and H2 define its methods in their files).
type Store interface{}

// Service is employers, settings, worker profiles, jobs and matching.
type Service struct{}

// NewService builds the Service.
func NewService(store Store, tz *time.Location, now func() time.Time) *Service { return &Service{} }

// HireStore is the hire service's store.
type HireStore interface{}

// HireService is applications, invitations and hires.
type HireService struct{}

// NewHireService builds the HireService.
func NewHireService(store HireStore, tz *time.Location, now func() time.Time) *HireService {
	return &HireService{}
}

// FairStore is the fair service's store.
type FairStore interface{}

// FairService is job fairs, transfers and consultations.
type FairService struct{}

// NewFairService builds the FairService.
func NewFairService(store FairStore, tz *time.Location, now func() time.Time) *FairService {
	return &FairService{}
}
