package report

import (
	"context"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// "Me too": a citizen other than the reporter says an open public report affects them too. Once per
// citizen and report (the store's marker); the count is on the report. It earns no points.

// Errors of me too. Codes are part of the API: never change one.
var (
	ErrMeTooOwn    = apperr.New(apperr.Conflict, "own_report", "you filed this report: a me too is for other citizens")
	ErrMeTooClosed = apperr.New(apperr.Conflict, "report_closed", "the report is no longer open")
)

// MeTooTarget is what a me too checks on a report.
type MeTooTarget struct {
	ID          string
	Status      Status
	ReporterSub string
	LeadDept    string
	Category    string
	MeToo       int
	Private     bool // filed as not public: no me too (report_not_found)
}

// MeTooResult is the answer to a me too: the same whether it was added now or before.
type MeTooResult struct {
	ReportID string `json:"reportId"`
	MeToo    bool   `json:"meToo"`
	Count    int    `json:"count"`
}

// MeToo adds p's "me too" to report id, once: a second one writes nothing and answers the same. Only
// citizens; not on their own reports, nor on closed or non-public ones (those are report_not_found).
func (s *PublicService) MeToo(ctx context.Context, p auth.Principal, id string) (MeTooResult, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return MeTooResult{}, err
	}
	t, err := s.store.MeTooTarget(ctx, id)
	if err != nil {
		return MeTooResult{}, err
	}
	switch {
	case !PublicStatus(t.Status), t.Private:
		return MeTooResult{}, ErrNotFound
	case t.ReporterSub == p.Sub:
		return MeTooResult{}, ErrMeTooOwn
	case !t.Status.Open():
		return MeTooResult{}, ErrMeTooClosed
	}
	added, err := s.store.AddMeToo(ctx, t, p.Sub, s.now())
	if err != nil {
		return MeTooResult{}, err
	}
	if added {
		t.MeToo++
	}
	return MeTooResult{ReportID: id, MeToo: true, Count: t.MeToo}, nil
}
