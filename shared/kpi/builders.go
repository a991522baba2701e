package kpi

import "github.com/civicsnap/civicsnap/shared/builders"

// Builders' home (建设者之家, issue 16) by local day. Every event the KPIs count wrote one immutable
// builders_record (kind, n, detail) keyed once per event; a day's figures are its records summed per kind
// (README "KPI definitions"):
//
//   - employersVerified (first verifications), jobsPosted and placesOffered (Σ n of job_posted: the jobs'
//     headcounts), searches (distinct (worker, day, query)), applications, invitations, hires,
//     hiresCompleted (both sides confirmed), hiresCancelled, fairs and fairEmployers (Σ n of fair),
//     fairCheckins, transfers and transferredWorkers (Σ n of transfer), consultations served by desk
//     kind (medical, legal).
//
// A record counts on the local day of its `at`. The figures are counts only, so a snapshot's builders
// block has a fixed size, and the running totals keep all of them.

// BuildersRecord is a builders_record as the roll-up of its day reads it.
type BuildersRecord struct {
	Kind   string
	N      int64
	Detail string
}

// BuildersInputs are one local day's builders' records (gsi1 BLDREC#<day>).
type BuildersInputs struct {
	Records []BuildersRecord
}

// Consultations are consultations served, by desk kind.
type Consultations struct {
	Medical int64 `json:"medical"`
	Legal   int64 `json:"legal"`
}

// BuildersStat is a period's builders' figures (a snapshot's, or a summary's range or totals).
type BuildersStat struct {
	EmployersVerified  int64         `json:"employersVerified"`
	JobsPosted         int64         `json:"jobsPosted"`
	PlacesOffered      int64         `json:"placesOffered"`
	Searches           int64         `json:"searches"`
	Applications       int64         `json:"applications"`
	Invitations        int64         `json:"invitations"`
	Hires              int64         `json:"hires"`
	HiresCompleted     int64         `json:"hiresCompleted"`
	HiresCancelled     int64         `json:"hiresCancelled"`
	Fairs              int64         `json:"fairs"`
	FairEmployers      int64         `json:"fairEmployers"`
	FairCheckins       int64         `json:"fairCheckins"`
	Transfers          int64         `json:"transfers"`
	TransferredWorkers int64         `json:"transferredWorkers"`
	Consultations      Consultations `json:"consultations"`
}

// computeBuilders sums a day's records per kind. A kind the KPIs do not know (a record written by a later
// version) and a consultation at a desk of neither kind count nowhere.
func computeBuilders(in BuildersInputs) BuildersStat {
	var b BuildersStat
	for _, r := range in.Records {
		switch r.Kind {
		case builders.RecEmployerVerified:
			b.EmployersVerified++
		case builders.RecJobPosted:
			b.JobsPosted++
			b.PlacesOffered += r.N
		case builders.RecSearch:
			b.Searches++
		case builders.RecApplication:
			b.Applications++
		case builders.RecInvitation:
			b.Invitations++
		case builders.RecHire:
			b.Hires++
		case builders.RecHireCompleted:
			b.HiresCompleted++
		case builders.RecHireCancelled:
			b.HiresCancelled++
		case builders.RecFair:
			b.Fairs++
			b.FairEmployers += r.N
		case builders.RecFairCheckin:
			b.FairCheckins++
		case builders.RecTransfer:
			b.Transfers++
			b.TransferredWorkers += r.N
		case builders.RecConsultation:
			switch r.Detail {
			case builders.DeskMedical:
				b.Consultations.Medical++
			case builders.DeskLegal:
				b.Consultations.Legal++
			}
		}
	}
	return b
}

// merge adds o's figures.
func (b *BuildersStat) merge(o BuildersStat) {
	b.EmployersVerified += o.EmployersVerified
	b.JobsPosted += o.JobsPosted
	b.PlacesOffered += o.PlacesOffered
	b.Searches += o.Searches
	b.Applications += o.Applications
	b.Invitations += o.Invitations
	b.Hires += o.Hires
	b.HiresCompleted += o.HiresCompleted
	b.HiresCancelled += o.HiresCancelled
	b.Fairs += o.Fairs
	b.FairEmployers += o.FairEmployers
	b.FairCheckins += o.FairCheckins
	b.Transfers += o.Transfers
	b.TransferredWorkers += o.TransferredWorkers
	b.Consultations.Medical += o.Consultations.Medical
	b.Consultations.Legal += o.Consultations.Legal
}

// BuildersSummary is a range's builders' figures (the KPI summary's "builders") and, in Total, every one so
// far (the running totals).
type BuildersSummary struct {
	BuildersStat
	Total BuildersStat `json:"total"`
}
