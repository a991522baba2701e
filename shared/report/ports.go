package report

import (
	"context"
	"time"

	"github.com/civicsnap/civicsnap/shared/idem"
)

// Store keeps reports, categories and idempotency claims. Implementations translate their errors into the
// domain's (ErrNotFound, apperr kinds).
type Store interface {
	Categories(ctx context.Context) ([]Category, error)

	// ClaimKey records rec as in flight unless its key is already claimed; then it returns the existing
	// record (and no error) in the same round trip.
	ClaimKey(ctx context.Context, rec idem.Record) (existing *idem.Record, err error)
	// TakeOverKey renews an in-flight claim whose lease ran out; idem.ErrInFlight if someone else did first.
	TakeOverKey(ctx context.Context, rec idem.Record, prevLockedUntil time.Time) error
	// ReleaseKey forgets an in-flight claim, so a rejected request leaves nothing behind.
	ReleaseKey(ctx context.Context, rec idem.Record) error
	// IdempotencyRecord reads a key's record (consistently), nil if there is none: how a request whose
	// write had an unknown outcome learns it.
	IdempotencyRecord(ctx context.Context, scope, owner, key string) (*idem.Record, error)

	// InsertReport writes r, which must be new, with the hash of the request that filed it, in one
	// conditional write (a citizen's report: its id comes from the reporter and the Idempotency-Key). If a
	// report with r's id exists it writes nothing and returns that one. Its errors say whether nothing was
	// written for certain (apperr.NotApplied) or the outcome is unknown (apperr.ErrOutcomeUnknown, or any
	// other).
	InsertReport(ctx context.Context, r Report, bodyHash string) (existing *Filed, err error)
	// FiledReport reads a report (consistently) with the hash of the request that filed it; nil if none.
	FiledReport(ctx context.Context, id string) (*Filed, error)
	// CreateReport writes the report, its first timeline entry and the completed key in one transaction
	// (Open311's claimed creation). Its errors say whether it was refused for certain (idem.ErrInFlight: the
	// key is no longer this request's; apperr.NotApplied) or its outcome is unknown (apperr.ErrOutcomeUnknown,
	// or any other).
	CreateReport(ctx context.Context, r Report, key idem.Record) error
	// GetReport returns the report with its timeline, or ErrNotFound.
	GetReport(ctx context.Context, id string) (Report, error)
	// ListByReporter returns a reporter's reports, newest first, and the cursor of the next page ("" at the
	// end). Timelines are not included.
	ListByReporter(ctx context.Context, sub string, limit int, cursor string) ([]Report, string, error)
}

// Filed is a stored report with the hash of the request body that filed it ("" for reports filed under
// an idempotency claim).
type Filed struct {
	Report   Report
	BodyHash string
}

// Upload is a presigned POST the client sends a photo with.
type Upload struct {
	Key       string            `json:"key"`
	URL       string            `json:"url"`
	Fields    map[string]string `json:"fields"`
	ExpiresAt time.Time         `json:"expiresAt"`
}

// Object is a fetched photo.
type Object struct {
	Data        []byte
	ContentType string
	VersionID   string // the version that was read: what a report records when nothing is stripped
	Owner       string // who uploaded it (the object's owner metadata, which the upload's policy fixed)
	// Checked: the version was written by a photo check (PutVersion: stripped bytes), not by an uploader.
	// Such a version belongs to the request that wrote it, which deletes it if that request is refused, so
	// no other request may record it: it writes a version of its own.
	Checked bool
}

// PhotoVersion names one stored version of a photo.
type PhotoVersion struct {
	Key       string
	VersionID string
}

// PhotoStore holds uploaded photos, in versions: a write to a key adds a version and keeps the others.
type PhotoStore interface {
	// PresignUpload returns a POST policy bound to exactly key, owner (the object's owner metadata),
	// contentType and sizes up to maxBytes.
	PresignUpload(ctx context.Context, key, owner, contentType string, maxBytes int64, ttl time.Duration) (Upload, error)
	// Get reads the current version of an object of at most maxBytes: ErrPhotoNotFound, ErrPhotoTooLarge
	// otherwise.
	Get(ctx context.Context, key string, maxBytes int64) (Object, error)
	// Put stores data as a new version of key, owner's, as an uploader would.
	Put(ctx context.Context, key, owner, contentType string, data []byte) error
	// PutVersion stores a photo check's bytes as a new version of key, owner's and marked Checked, and
	// returns its version id.
	PutVersion(ctx context.Context, key, owner, contentType string, data []byte) (versionID string, err error)
	// DeleteVersions removes the named versions (a version id "" names an unversioned object); missing ones
	// are not an error.
	DeleteVersions(ctx context.Context, versions ...PhotoVersion) error
	// ListVersions calls each with the versions (and deletion markers) of every key under prefix, a page at
	// a time, in key order.
	ListVersions(ctx context.Context, prefix string, each func([]PhotoVersion) error) error
}
