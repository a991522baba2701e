package builders

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
)

// EmployerStore is the store of employers, settings and worker profiles (shared/dynamostore builders.go).
type EmployerStore interface {
	// Employer reads an employer strongly consistently (ErrEmployerNotFound).
	Employer(ctx context.Context, sub string) (Employer, error)
	// Worker reads a worker profile with its phone, strongly consistently (ErrNotWorker).
	Worker(ctx context.Context, sub string) (Worker, error)
	// BuildersSettings reads the settings (DefaultSettings when none were saved).
	BuildersSettings(ctx context.Context) (Settings, error)
	// PutBuildersSettings saves the settings.
	PutBuildersSettings(ctx context.Context, st Settings) error
	// RegisterEmployer writes e as a new registration (prev nil) or a correction of prev (pending or
	// rejected), with its licence claim: ErrLicenceTaken when another account holds e.Licence,
	// ErrEmployerStatus when prev changed meanwhile (or a registration exists when prev is nil).
	RegisterEmployer(ctx context.Context, e Employer, prev *Employer) error
	// SetEmployerStatus moves an employer from one of from to e.Status with e's reason, verifier and times;
	// rec (verification's KPI record) is written in the same transaction when not nil. ErrEmployerStatus
	// when the employer is in none of from; ErrEmployerNotFound.
	SetEmployerStatus(ctx context.Context, e Employer, from []string, rec *Record) error
	// Employers lists employers of a status, oldest registration first.
	Employers(ctx context.Context, status, cursor string, limit int) ([]Employer, string, error)
	// ReportEmployer records reporter's report against the employer once and counts it: false when the
	// reporter had reported it already (nothing written).
	ReportEmployer(ctx context.Context, employerSub, reporterSub, reason string, at time.Time) (bool, error)
	// EmployerOpenJobIDs returns the ids of the employer's open jobs (at most limit), newest first.
	EmployerOpenJobIDs(ctx context.Context, sub string, limit int) ([]string, error)
	// PutWorker writes w and its match entries (entries: what the profile lists; the entries of prev's
	// other trades are deleted) in one transaction, conditional on the profile being as prev (nil: absent).
	PutWorker(ctx context.Context, w Worker, entries []MatchEntry, prev *Worker) error
	// DeleteWorker deletes prev and its match entries, conditional on the profile being as prev.
	DeleteWorker(ctx context.Context, prev Worker) error
}

// Errors of employers and workers beyond builders.go's.
var (
	ErrEmployerStatus = apperr.New(apperr.Conflict, "employer_status", "the employer is not in a status that allows this")
	ErrEmployerLocked = apperr.New(apperr.Conflict, "employer_locked", "a verified or suspended employer's registration cannot be changed")
)

// EmployerInput is a registration (or its correction while pending or rejected).
type EmployerInput struct {
	Name    string  `json:"name"`
	Licence string  `json:"licence"`
	Contact Contact `json:"contact"`
	Address string  `json:"address"`
}

// ReasonInput is an admin's reason (reject, suspend) or a citizen's report.
type ReasonInput struct {
	Reason string `json:"reason"`
}

// licenceAlphabet is the unified social credit code's characters (GB 32100-2015: digits and the capitals
// but I, O, Z, S, V), in the order of their values 0..30.
const licenceAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// licenceWeights are the weights of the first 17 characters (3^i mod 31).
var licenceWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// ValidLicence reports whether s is a unified social credit code: 18 characters of its alphabet whose
// last is the check character of GB 32100-2015 (31 − Σ value·weight mod 31, 31 written as 0).
func ValidLicence(s string) bool {
	if len(s) != MaxLicence {
		return false
	}
	sum := 0
	for i := range 17 {
		v := strings.IndexByte(licenceAlphabet, s[i])
		if v < 0 {
			return false
		}
		sum += v * licenceWeights[i]
	}
	return s[17] == licenceAlphabet[(31-sum%31)%31]
}

// ValidPhone reports whether s is a phone number: 5 to MaxPhone characters of digits, +, - and spaces
// with at least 5 digits (the + only first).
func ValidPhone(s string) bool {
	if len(s) < 5 || len(s) > MaxPhone {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == '-', r == ' ':
		default:
			return false
		}
	}
	return digits >= 5
}

// text trims v and checks its length: required or not, at most max characters, no control characters.
func text(what, v string, max int, required bool) (string, error) {
	v = strings.TrimSpace(v)
	if v == "" && required {
		return "", ErrInvalid.With("%s is required", what)
	}
	if utf8.RuneCountInString(v) > max || !utf8.ValidString(v) {
		return "", ErrInvalid.With("%s is longer than %d characters", what, max)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", ErrInvalid.With("%s has a control character", what)
		}
	}
	return v, nil
}

// Check returns the registration normalised (trimmed; the licence in capitals), or ErrInvalid.
func (in EmployerInput) Check() (EmployerInput, error) {
	var err error
	out := in
	if out.Name, err = text("name", in.Name, MaxName, true); err != nil {
		return out, err
	}
	out.Licence = strings.ToUpper(strings.TrimSpace(in.Licence))
	if !ValidLicence(out.Licence) {
		return out, ErrInvalid.With("licence is not a unified social credit code (18 characters, GB 32100-2015 check)")
	}
	if out.Contact.Name, err = text("contact.name", in.Contact.Name, MaxName, true); err != nil {
		return out, err
	}
	out.Contact.Phone = strings.TrimSpace(in.Contact.Phone)
	if !ValidPhone(out.Contact.Phone) {
		return out, ErrInvalid.With("contact.phone is not a phone number")
	}
	if out.Address, err = text("address", in.Address, MaxText, false); err != nil {
		return out, err
	}
	return out, nil
}

// Check returns the reason trimmed (required, at most MaxText characters), or ErrInvalid.
func (in ReasonInput) Check() (ReasonInput, error) {
	r, err := text("reason", in.Reason, MaxText, true)
	return ReasonInput{Reason: r}, err
}

// clock is the service's now, in milliseconds (the stored times' precision).
func (s *Service) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

func requireAdmin(p auth.Principal) error { return p.Require(auth.Admin) }

func requireSignedIn(p auth.Principal) error {
	if p.Sub == "" {
		return auth.ErrUnauthenticated
	}
	return nil
}

// MyEmployer is the caller's employer registration with its status.
func (s *Service) MyEmployer(ctx context.Context, p auth.Principal) (Employer, error) {
	if err := requireSignedIn(p); err != nil {
		return Employer{}, err
	}
	e, err := s.store.Employer(ctx, p.Sub)
	if errors.Is(err, ErrEmployerNotFound) {
		return Employer{}, ErrNotEmployer
	}
	return e, err
}

// sameRegistration reports whether e already holds in.
func sameRegistration(e Employer, in EmployerInput) bool {
	return e.Name == in.Name && e.Licence == in.Licence && e.Contact == in.Contact && e.Address == in.Address
}

// RegisterEmployer registers the caller's business (pending an admin's verification) or corrects its
// registration while pending or rejected (back to pending). A re-sent registration answers the employer and
// writes nothing. A verified or suspended employer's registration is locked (ErrEmployerLocked).
func (s *Service) RegisterEmployer(ctx context.Context, p auth.Principal, in EmployerInput) (Employer, error) {
	if err := requireSignedIn(p); err != nil {
		return Employer{}, err
	}
	in, err := in.Check()
	if err != nil {
		return Employer{}, err
	}
	prev, err := s.store.Employer(ctx, p.Sub)
	found := err == nil
	if err != nil && !errors.Is(err, ErrEmployerNotFound) {
		return Employer{}, err
	}
	if found && sameRegistration(prev, in) {
		return prev, nil
	}
	if found && prev.Status != EmployerPending && prev.Status != EmployerRejected {
		return Employer{}, ErrEmployerLocked
	}
	now := s.clock()
	e := Employer{Sub: p.Sub, Name: in.Name, Licence: in.Licence, Contact: in.Contact, Address: in.Address,
		Status: EmployerPending, CreatedAt: now, UpdatedAt: now}
	var pp *Employer
	if found {
		e.CreatedAt, e.Reports, e.OpenJobs, pp = prev.CreatedAt, prev.Reports, prev.OpenJobs, &prev
	}
	err = s.store.RegisterEmployer(ctx, e, pp)
	if errors.Is(err, ErrEmployerStatus) {
		// a concurrent copy of the same request (or another write) won: answer what is stored if it is this
		// registration, else the conflict.
		if cur, rerr := s.store.Employer(ctx, p.Sub); rerr == nil && sameRegistration(cur, in) {
			return cur, nil
		}
		return Employer{}, ErrEmployerStatus.With("the registration changed meanwhile; read it and try again")
	}
	if err != nil {
		return Employer{}, err
	}
	return e, nil
}

// Employers is the admin's review queue: employers of a status (default pending), oldest first.
func (s *Service) Employers(ctx context.Context, p auth.Principal, status, cursor string) ([]Employer, string, error) {
	if err := requireAdmin(p); err != nil {
		return nil, "", err
	}
	switch status {
	case "":
		status = EmployerPending
	case EmployerPending, EmployerVerified, EmployerSuspended, EmployerRejected:
	default:
		return nil, "", ErrInvalid.With("status is one of pending, verified, suspended, rejected")
	}
	return s.store.Employers(ctx, status, cursor, MaxPageSize)
}

// transition is one admin decision about an employer.
type transition struct {
	to     string
	from   []string
	reason bool // the decision takes a reason
}

var transitions = map[string]transition{
	"verify":    {to: EmployerVerified, from: []string{EmployerPending}},
	"reject":    {to: EmployerRejected, from: []string{EmployerPending}, reason: true},
	"suspend":   {to: EmployerSuspended, from: []string{EmployerVerified}, reason: true},
	"reinstate": {to: EmployerVerified, from: []string{EmployerSuspended}},
}

// DecideEmployer is an admin's decision about an employer: verify (writes the employer_verified record, once
// ever), reject {reason}, suspend {reason} (its open jobs leave the listings), reinstate (they come back).
// A decision re-sent (the employer already in its status) answers the employer and writes nothing — but a
// re-sent suspension or reinstatement walks the jobs again, finishing a walk a failure cut short.
func (s *Service) DecideEmployer(ctx context.Context, p auth.Principal, sub, decision string, in ReasonInput) (Employer, error) {
	if err := requireAdmin(p); err != nil {
		return Employer{}, err
	}
	tr, ok := transitions[decision]
	if !ok {
		return Employer{}, ErrInvalid.With("no such decision %q", decision)
	}
	if tr.reason {
		var err error
		if in, err = in.Check(); err != nil {
			return Employer{}, err
		}
	}
	e, err := s.store.Employer(ctx, sub)
	if err != nil {
		return Employer{}, err
	}
	if e.Status != tr.to {
		if !slices.Contains(tr.from, e.Status) {
			return Employer{}, ErrEmployerStatus.With("the employer is %s", e.Status)
		}
		now := s.clock()
		next := e
		next.Status, next.StatusReason, next.UpdatedAt = tr.to, in.Reason, now
		var rec *Record
		if decision == "verify" {
			next.VerifiedBy, next.VerifiedAt = p.Sub, now
			rec = &Record{ID: sub, Kind: RecEmployerVerified, N: 1, Ref: sub, At: now}
		}
		err := s.store.SetEmployerStatus(ctx, next, tr.from, rec)
		if errors.Is(err, ErrEmployerStatus) {
			cur, rerr := s.store.Employer(ctx, sub)
			if rerr != nil {
				return Employer{}, rerr
			}
			if cur.Status != tr.to {
				return Employer{}, ErrEmployerStatus.With("the employer is %s", cur.Status)
			}
			next = cur // a concurrent copy of the decision won
		} else if err != nil {
			return Employer{}, err
		}
		e = next
	}
	switch decision {
	case "suspend":
		return e, s.listJobs(ctx, sub, false)
	case "reinstate":
		return e, s.listJobs(ctx, sub, true)
	}
	return e, nil
}

// listJobs takes the employer's open jobs out of the listings or puts them back (idempotent per job).
func (s *Service) listJobs(ctx context.Context, sub string, listed bool) error {
	ids, err := s.store.EmployerOpenJobIDs(ctx, sub, MaxOpenJobs)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if listed {
			// A job whose end date passed while its employer was suspended is expired, not listed again.
			open, err := s.stillOpen(ctx, id)
			if err != nil {
				return err
			}
			if !open {
				continue
			}
		}
		if err := s.store.SetJobListed(ctx, id, listed); err != nil && !errors.Is(err, ErrJobNotFound) {
			return err
		}
	}
	return nil
}

// stillOpen reads a job as of today (expiring it, once, if its end date has passed) and reports whether it
// is open; a job gone is not.
func (s *Service) stillOpen(ctx context.Context, id string) (bool, error) {
	j, err := s.store.Job(ctx, id)
	if errors.Is(err, ErrJobNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if j, err = s.current(ctx, j); err != nil {
		return false, err
	}
	return j.Status == JobOpen, nil
}

// expirePassed expires the employer's open jobs whose end date has passed (each counted in its openJobs
// until something read it) and reports how many it expired: at most MaxOpenJobs reads.
func (s *Service) expirePassed(ctx context.Context, sub string) (int, error) {
	ids, err := s.store.EmployerOpenJobIDs(ctx, sub, MaxOpenJobs)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		open, err := s.stillOpen(ctx, id)
		if err != nil {
			return n, err
		}
		if !open {
			n++
		}
	}
	return n, nil
}

// PublicEmployer is what a signed-in user sees of an employer: never the licence holder's registration
// details beyond the business's name, status, address, its contact (the business's phone), reports and
// open jobs. A pending or rejected employer is not public (ErrEmployerNotFound).
type PublicEmployer struct {
	Sub      string  `json:"sub"`
	Name     string  `json:"name"`
	Status   string  `json:"status"`
	Address  string  `json:"address,omitempty"`
	Contact  Contact `json:"contact"`
	Reports  int     `json:"reports"`
	OpenJobs int     `json:"openJobs"`
}

// PublicEmployer is an employer's public view for workers.
func (s *Service) PublicEmployer(ctx context.Context, p auth.Principal, sub string) (PublicEmployer, error) {
	if err := requireSignedIn(p); err != nil {
		return PublicEmployer{}, err
	}
	e, err := s.store.Employer(ctx, sub)
	if err != nil {
		return PublicEmployer{}, err
	}
	if e.Status != EmployerVerified && e.Status != EmployerSuspended {
		return PublicEmployer{}, ErrEmployerNotFound
	}
	return PublicEmployer{Sub: e.Sub, Name: e.Name, Status: e.Status, Address: e.Address, Contact: e.Contact,
		Reports: e.Reports, OpenJobs: e.OpenJobs}, nil
}

// ReportEmployer is a citizen's report against a verified or suspended employer, counted once per citizen:
// a second report (or a re-sent one) answers the employer's view and writes nothing.
func (s *Service) ReportEmployer(ctx context.Context, p auth.Principal, sub string, in ReasonInput) (PublicEmployer, error) {
	if err := requireSignedIn(p); err != nil {
		return PublicEmployer{}, err
	}
	in, err := in.Check()
	if err != nil {
		return PublicEmployer{}, err
	}
	if p.Sub == sub {
		return PublicEmployer{}, ErrInvalid.With("you cannot report your own business")
	}
	if _, err := s.PublicEmployer(ctx, p, sub); err != nil {
		return PublicEmployer{}, err
	}
	if _, err := s.store.ReportEmployer(ctx, sub, p.Sub, in.Reason, s.clock()); err != nil {
		return PublicEmployer{}, err
	}
	return s.PublicEmployer(ctx, p, sub)
}
