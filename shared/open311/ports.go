package open311

import (
	"context"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Store keeps client applications and their request counters, and reads reports for GeoReport
// (shared/dynamostore). Every read is a GetItem, a BatchGetItem or a Query on a key built for it.
type Store interface {
	// CreateClient writes a new client (safe to send twice).
	CreateClient(ctx context.Context, c Client) error
	// Client reads one client, ErrClientMissing if there is none.
	Client(ctx context.Context, id string) (Client, error)
	// Clients lists every client, newest first.
	Clients(ctx context.Context) ([]Client, error)
	// RevokeClient marks a client revoked at (keeping the first revocation's time) and returns it.
	RevokeClient(ctx context.Context, id string, at time.Time) (Client, error)
	// CountRequest counts one request of a client in a minute window unless limit requests were counted
	// already (allowed false). requestID makes it safe to send twice: a re-sent count is not counted again.
	CountRequest(ctx context.Context, clientID, window, requestID string, limit int, expires time.Time) (allowed bool, err error)

	// CreatedOn lists the reports (with their lead assignments, without timelines) created on a local day
	// within [q.From, q.To] and matching q's filters, newest first, at most q.Limit, starting after the
	// cursor q.After ("" for the start); next is "" at the day's end.
	CreatedOn(ctx context.Context, day string, q DayQuery) (reports []report.Report, next string, err error)
	// ReportsByID reads reports (without timelines) and their lead assignments; unknown ids are left out.
	ReportsByID(ctx context.Context, ids []string) ([]report.Report, error)
	// GetReport reads a report with its timeline and assignments, report.ErrNotFound if there is none.
	GetReport(ctx context.Context, id string) (report.Report, error)
	// UpdatesOn lists the timeline entries of Open311 reports made on a UTC day within [from, to], oldest
	// first, at most limit+1 (so the caller can tell there were more).
	UpdatesOn(ctx context.Context, day string, from, to time.Time, limit int) ([]TimelineUpdate, error)
	// AddNote appends a public note to a report's timeline once per (client, update id): a second call
	// with the same ids returns the first note's update id and writes nothing.
	AddNote(ctx context.Context, n Note) (updateID string, err error)
}

// DayQuery narrows CreatedOn.
type DayQuery struct {
	From, To time.Time
	Category string          // "" for any
	Statuses []report.Status // nil for any
	Limit    int
	After    string
}

// TimelineUpdate is a timeline entry with its report and its stable update id.
type TimelineUpdate struct {
	UpdateID string
	ReportID string
	Entry    report.TimelineEntry
}

// Note is a citizen's public update on a report, posted by a client.
type Note struct {
	ReportID string
	ClientID string
	// ClientUpdateID is the client's own id of the update: what makes posting it twice safe.
	ClientUpdateID string
	Entry          report.TimelineEntry
}

// Reports files reports (report.Service).
type Reports interface {
	CreateOpen311(ctx context.Context, in report.Open311Report) (report.Report, error)
	MaxUploadBytes() int64
}

// Config is the city's cached configuration (dispatch.Directory): categories and department names.
type Config interface {
	Get(ctx context.Context) (*dispatch.Config, error)
}

// PhotoLinks makes a URL a client can fetch a report's stored (stripped) photo from: that photo's
// version, never the original upload.
type PhotoLinks interface {
	PhotoURL(ctx context.Context, p report.Photo) (string, error)
}

// MediaFetcher fetches a media_url through the egress guard, at most max bytes.
type MediaFetcher interface {
	Fetch(ctx context.Context, url string, max int64) ([]byte, error)
}
