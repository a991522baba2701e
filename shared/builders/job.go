package builders

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// JobStore is the store of jobs and matching (shared/dynamostore builders_job.go). It repeats the three
// readers of EmployerStore the job routes need, so this file stands on its own (Go merges identical
// methods of embedded interfaces).
type JobStore interface {
	Employer(ctx context.Context, sub string) (Employer, error)
	Worker(ctx context.Context, sub string) (Worker, error)
	BuildersSettings(ctx context.Context) (Settings, error)

	// Job reads a job as stored, strongly consistently (ErrJobNotFound).
	Job(ctx context.Context, id string) (Job, error)
	// FillRepair marks an open job whose places are all taken filled: its listing keys go and its
	// employer's open jobs drop by one, once (a no-op for any other job).
	FillRepair(ctx context.Context, jobID string) error
	// SetJobListed takes an open job out of the listings (its employer suspended) or puts it back.
	SetJobListed(ctx context.Context, jobID string, listed bool) error
	// PostJob writes a new job, its employer's openJobs + 1 (while verified and below MaxOpenJobs) and
	// the job_posted record in one transaction. A job of that id already stored answers it (created
	// false) when its body hash is bodyHash, idem.ErrKeyReused otherwise.
	PostJob(ctx context.Context, j Job, bodyHash string) (Job, bool, error)
	// CloseJob closes an open or filled job (an open one frees its employer's open-job count); a job
	// closed or expired already is answered as it is.
	CloseJob(ctx context.Context, j Job, at time.Time) (Job, error)
	// ExpireJob marks an open job whose end date is before today expired (unlisted, its employer's open
	// jobs - 1), once.
	ExpireJob(ctx context.Context, j Job, today string) error
	// ListedJobs returns the keys and places of the jobs listed in cells (of trade, or every trade when
	// trade is ""), newest first, at most perCell of each cell.
	ListedJobs(ctx context.Context, trade string, cells []string, perCell int) ([]JobKey, error)
	// JobsByID reads jobs (strongly consistent); missing ones are left out.
	JobsByID(ctx context.Context, ids []string) ([]Job, error)
	// EmployerJobs returns a page of an employer's jobs, newest first, and the next page's cursor.
	EmployerJobs(ctx context.Context, sub string, limit int, cursor string) ([]Job, string, error)
	// PutBuilderRecord writes a KPI record once (a conditional put); false when it was written before.
	PutBuilderRecord(ctx context.Context, rec Record) (bool, error)
	// MatchEntries returns the worker match entries of trade in cells, at most perCell of each.
	MatchEntries(ctx context.Context, trade string, cells []string, perCell int) ([]MatchEntry, error)
}

// JobKey is what a listing index holds of a job: enough to order and filter by distance before the
// jobs are read.
type JobKey struct {
	ID        string
	CreatedAt time.Time
	Lat, Lng  float64
}

// maxWage bounds a wage figure (yuan): anything above is a typing error.
const maxWage = 1_000_000

// JobInput is what an employer posts.
type JobInput struct {
	Title        string   `json:"title"`
	Trade        string   `json:"trade"`
	Place        JobPlace `json:"place"`
	Wage         Wage     `json:"wage"`
	Headcount    int      `json:"headcount"`
	StartDate    string   `json:"startDate"`
	EndDate      string   `json:"endDate"`
	Requirements string   `json:"requirements"`
}

// Daily is the daily equivalent (yuan a day) of w's lowest and highest wage: a day's as is, a month's
// over DaysPerMonth, a piece-rate's its DailyEstimate.
func Daily(w Wage) (lo, hi float64) {
	switch w.Unit {
	case UnitMonth:
		return float64(w.Min) / DaysPerMonth, float64(w.Max) / DaysPerMonth
	case UnitPiece:
		return float64(w.DailyEstimate), float64(w.DailyEstimate)
	default:
		return float64(w.Min), float64(w.Max)
	}
}

// CheckWage checks a job's wage against the shape rules and the city's minimum wage (month → the monthly
// minimum; day and piece → the daily one, a piece-rate job by its DailyEstimate).
func CheckWage(w Wage, min MinimumWage) error {
	switch w.Unit {
	case UnitDay, UnitMonth, UnitPiece:
	default:
		return ErrInvalid.With("wage.unit must be day, month or piece")
	}
	if w.Min < 1 || w.Max < w.Min || w.Max > maxWage {
		return ErrInvalid.With("wage.min must be at least 1 and at most wage.max (at most %d)", maxWage)
	}
	switch {
	case w.Unit == UnitPiece && (w.DailyEstimate < 1 || w.DailyEstimate > maxWage):
		return ErrInvalid.With("a piece-rate wage needs dailyEstimate (yuan a day), 1 to %d", maxWage)
	case w.Unit != UnitPiece && w.DailyEstimate != 0:
		return ErrInvalid.With("dailyEstimate is for piece-rate wages only")
	}
	switch w.Unit {
	case UnitMonth:
		if w.Min < min.Month {
			return ErrWageBelowMinimum.With("wage.min %d is below the monthly minimum wage %d", w.Min, min.Month)
		}
	case UnitDay:
		if w.Min < min.Day {
			return ErrWageBelowMinimum.With("wage.min %d is below the daily minimum wage %d", w.Min, min.Day)
		}
	case UnitPiece:
		if w.DailyEstimate < min.Day {
			return ErrWageBelowMinimum.With("dailyEstimate %d is below the daily minimum wage %d", w.DailyEstimate, min.Day)
		}
	}
	return nil
}

// validPoint reports whether lat, lng is a point on the map: validLatLng, and not (0, 0) (an unset place).
func validPoint(lat, lng float64) bool { return (lat != 0 || lng != 0) && validLatLng(lat, lng) }

// parseDay reads a local day YYYY-MM-DD.
func parseDay(s string, tz *time.Location) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, s, tz)
	return d, err == nil && d.Format(time.DateOnly) == s
}

// Check checks a job's input against the rules that need no store (CheckWage for the wage): title, trade,
// place, headcount, dates (start ≤ end, end not before today, start within MaxJobDays of today, at most
// MaxJobDays long), requirements. today is the city's local day.
func (in JobInput) Check(today string, tz *time.Location) (JobInput, error) {
	in.Title = strings.TrimSpace(in.Title)
	in.Requirements = strings.TrimSpace(in.Requirements)
	in.Place.Address = strings.TrimSpace(in.Place.Address)
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > MaxName:
		return in, ErrInvalid.With("title must be 1 to %d characters", MaxName)
	case !IsTrade(in.Trade):
		return in, ErrUnknownTrade.With("trade %q is not a trade of GET /v1/builders/trades", in.Trade)
	case !validPoint(in.Place.Lat, in.Place.Lng):
		return in, ErrInvalid.With("place must have lat and lng")
	case utf8.RuneCountInString(in.Place.Address) > MaxName*2:
		return in, ErrInvalid.With("place.address must be at most %d characters", MaxName*2)
	case in.Headcount < 1 || in.Headcount > MaxHeadcount:
		return in, ErrInvalid.With("headcount must be 1 to %d", MaxHeadcount)
	case utf8.RuneCountInString(in.Requirements) > MaxText:
		return in, ErrInvalid.With("requirements must be at most %d characters", MaxText)
	}
	start, ok1 := parseDay(in.StartDate, tz)
	end, ok2 := parseDay(in.EndDate, tz)
	now, _ := parseDay(today, tz)
	switch {
	case !ok1 || !ok2:
		return in, ErrInvalid.With("startDate and endDate must be days YYYY-MM-DD")
	case end.Before(start):
		return in, ErrInvalid.With("endDate must not be before startDate")
	case in.EndDate < today:
		return in, ErrInvalid.With("endDate must not be before today (%s)", today)
	case start.After(now.AddDate(0, 0, MaxJobDays)):
		return in, ErrInvalid.With("startDate must be within %d days of today", MaxJobDays)
	case end.After(start.AddDate(0, 0, MaxJobDays-1)):
		return in, ErrInvalid.With("a job spans at most %d days", MaxJobDays)
	}
	return in, nil
}

// jobID is the id of the job (employer, Idempotency-Key) posts: a re-sent post names the same job.
func jobID(sub, key string) string {
	sum := sha256.Sum256([]byte("job\x00" + sub + "\x00" + key))
	return hex.EncodeToString(sum[:12])
}

// today is the city's local day now.
func (s *Service) today() string { return s.now().In(s.tz).Format(time.DateOnly) }

// actingEmployer returns the caller's employer while it is verified.
func (s *Service) actingEmployer(ctx context.Context, p auth.Principal) (Employer, error) {
	if p.Sub == "" {
		return Employer{}, auth.ErrUnauthenticated
	}
	e, err := s.store.Employer(ctx, p.Sub)
	switch {
	case errors.Is(err, ErrEmployerNotFound):
		return Employer{}, ErrNotEmployer
	case err != nil:
		return Employer{}, err
	case e.Status == EmployerSuspended:
		return Employer{}, ErrEmployerSuspended
	case e.Status != EmployerVerified:
		return Employer{}, ErrEmployerUnverified
	}
	return e, nil
}

// PostJob posts a job for the caller's verified employer. key is the Idempotency-Key (the job's id
// derives from it), body the request's bytes: a re-sent post answers the job it made (created false)
// and writes nothing.
func (s *Service) PostJob(ctx context.Context, p auth.Principal, key string, body []byte, in JobInput) (Job, bool, error) {
	if p.Sub == "" {
		return Job{}, false, auth.ErrUnauthenticated
	}
	if err := idem.ValidateKey(key); err != nil {
		return Job{}, false, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	in, err := in.Check(s.today(), s.tz)
	if err != nil {
		return Job{}, false, err
	}
	e, err := s.actingEmployer(ctx, p)
	if err != nil {
		return Job{}, false, err
	}
	set, err := s.store.BuildersSettings(ctx)
	if err != nil {
		return Job{}, false, err
	}
	if err := CheckWage(in.Wage, set.MinimumWage); err != nil {
		return Job{}, false, err
	}
	j := Job{
		ID: jobID(p.Sub, key), EmployerSub: p.Sub, EmployerName: e.Name, Title: in.Title, Trade: in.Trade,
		Place: in.Place, Wage: in.Wage, Headcount: in.Headcount, StartDate: in.StartDate, EndDate: in.EndDate,
		Requirements: in.Requirements, Status: JobOpen, CreatedAt: now,
	}
	posted, created, err := s.store.PostJob(ctx, j, idem.Hash(body))
	if errors.Is(err, ErrTooManyOpenJobs) {
		// Jobs past their end date still count until something reads them: expire them, then try once more.
		if n, xerr := s.expirePassed(ctx, p.Sub); xerr != nil {
			return Job{}, false, xerr
		} else if n > 0 {
			return s.store.PostJob(ctx, j, idem.Hash(body))
		}
	}
	return posted, created, err
}

// current is j as of today: an open job whose end date has passed is expired (and is written so, once).
func (s *Service) current(ctx context.Context, j Job) (Job, error) {
	today := s.today()
	if j.Status == JobOpen && j.EndDate < today {
		if err := s.store.ExpireJob(ctx, j, today); err != nil {
			return Job{}, err
		}
		j.Status = JobExpired
	}
	return j, nil
}

// Job returns a job to anyone signed in; the counts of applications only to its employer and admins.
func (s *Service) Job(ctx context.Context, p auth.Principal, id string) (Job, error) {
	if p.Sub == "" {
		return Job{}, auth.ErrUnauthenticated
	}
	j, err := s.store.Job(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if j, err = s.current(ctx, j); err != nil {
		return Job{}, err
	}
	if j.EmployerSub != p.Sub && !p.Has(auth.Admin) {
		j.Applications = 0
	}
	return j, nil
}

// CloseJob closes a job: its employer or an admin. Closing a closed or expired job answers it as it is.
func (s *Service) CloseJob(ctx context.Context, p auth.Principal, id string) (Job, error) {
	if p.Sub == "" {
		return Job{}, auth.ErrUnauthenticated
	}
	j, err := s.store.Job(ctx, id)
	if err != nil {
		return Job{}, err
	}
	if j.EmployerSub != p.Sub && !p.Has(auth.Admin) {
		return Job{}, ErrNotYourJob
	}
	if j, err = s.current(ctx, j); err != nil {
		return Job{}, err
	}
	return s.store.CloseJob(ctx, j, s.now().UTC().Truncate(time.Millisecond))
}

// MyJobs returns a page of the caller's jobs as an employer (any status), newest first.
func (s *Service) MyJobs(ctx context.Context, p auth.Principal, cursor string) ([]Job, string, error) {
	if p.Sub == "" {
		return nil, "", auth.ErrUnauthenticated
	}
	if _, err := s.store.Employer(ctx, p.Sub); errors.Is(err, ErrEmployerNotFound) {
		return nil, "", ErrNotEmployer
	} else if err != nil {
		return nil, "", err
	}
	jobs, next, err := s.store.EmployerJobs(ctx, p.Sub, MaxPageSize, cursor)
	if err != nil {
		return nil, "", err
	}
	for i := range jobs {
		if jobs[i], err = s.current(ctx, jobs[i]); err != nil {
			return nil, "", err
		}
	}
	return jobs, next, nil
}
