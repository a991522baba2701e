package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/ttl"
	"github.com/google/uuid"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/photo"
)

// Config holds the service's settings.
type Config struct {
	BBox           BBox
	MaxUploadBytes int64
	UploadTTL      time.Duration // how long a presigned POST is valid (10 minutes)
	CategoryTTL    time.Duration // how long categories are cached per container

	// TZ is the city's: an upload's key names its local day (photos.go); UTC if nil.
	TZ *time.Location

	// Links presigns the photo links of View (the photo bucket); without it View links nothing.
	Links PhotoLinker
	// PhotoLinkTTL is how long View's links are valid (ReaderPhotoTTL).
	PhotoLinkTTL time.Duration
}

// Service files reports and shows them.
type Service struct {
	store  Store
	photos PhotoStore
	cfg    Config
	now    func() time.Time
	newID  func() string

	mu         sync.Mutex
	cats       map[string]Category
	catsList   []Category
	catsLoaded time.Time
}

// NewService returns a Service. now and newID are injected so tests are deterministic.
func NewService(store Store, photos PhotoStore, cfg Config, now func() time.Time, newID func() string) *Service {
	if cfg.UploadTTL == 0 {
		cfg.UploadTTL = 10 * time.Minute
	}
	if cfg.CategoryTTL == 0 {
		cfg.CategoryTTL = time.Minute
	}
	if cfg.PhotoLinkTTL == 0 {
		cfg.PhotoLinkTTL = ReaderPhotoTTL
	}
	return &Service{store: store, photos: photos, cfg: cfg, now: now, newID: newID}
}

// Categories returns the categories, from a per-container cache refreshed every CategoryTTL.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	_, list, err := s.categories(ctx)
	return list, err
}

func (s *Service) categories(ctx context.Context) (map[string]Category, []Category, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cats != nil && ttl.Fresh(s.catsLoaded, s.now(), s.cfg.CategoryTTL) {
		return s.cats, s.catsList, nil
	}
	list, err := s.store.Categories(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load categories: %w", err)
	}
	m := make(map[string]Category, len(list))
	for _, c := range list {
		m[c.Code] = c
	}
	s.cats, s.catsList, s.catsLoaded = m, list, s.now()
	return m, list, nil
}

// CreateUpload hands the caller a presigned POST for one photo. It writes nothing.
func (s *Service) CreateUpload(ctx context.Context, p auth.Principal, contentType string, size int64) (Upload, error) {
	if err := p.Require(auth.Citizen, auth.Staff); err != nil {
		return Upload{}, err
	}
	return s.CreateUploadFor(ctx, p.Sub, contentType, size)
}

// CreateUploadFor hands out a presigned POST under owner's pending area: a user's sub, or "dept-<id>" for a
// department system that signs its requests.
func (s *Service) CreateUploadFor(ctx context.Context, owner, contentType string, size int64) (Upload, error) {
	if !validOwner(owner) {
		return Upload{}, ErrUnsupportedCaller
	}
	if !photo.Allowed(contentType) {
		return Upload{}, ErrContentType
	}
	if size < 1 || size > s.cfg.MaxUploadBytes {
		return Upload{}, ErrUploadSize.With("size must be between 1 and %d bytes", s.cfg.MaxUploadBytes)
	}
	key := s.uploadKey(photo.Ext(contentType))
	up, err := s.photos.PresignUpload(ctx, key, owner, contentType, s.cfg.MaxUploadBytes, s.cfg.UploadTTL)
	if err != nil {
		return Upload{}, fmt.Errorf("presign upload: %w", err)
	}
	return up, nil
}

// Create files a new report for p. body is the raw request (its hash binds the idempotency key) and n its
// decoded form. The report is its own idempotency record: its id is derived from the caller and the key
// (ReportID), and one conditional write creates it with the body's hash, so a request sent again finds it
// and gets the first answer back (the same body) or idempotency_key_reused (another body). There is no
// claim, hence no window in which a second request is told the first is still in flight: the one whose
// write lands first wins and the other answers from it. A refused request writes nothing (validation that
// needs no I/O runs first; the versions a refused request's photo checks wrote are deleted).
func (s *Service) Create(ctx context.Context, p auth.Principal, key string, body []byte, n NewReport) (Report, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Report{}, err
	}
	if err := idem.ValidateKey(key); err != nil {
		return Report{}, err
	}
	cats, _, err := s.categories(ctx)
	if err != nil {
		return Report{}, err
	}
	loc, err := n.validate(p.Sub, s.cfg.BBox, cats)
	if err != nil {
		return Report{}, err
	}
	id, hash := ReportID(p.Sub, key), idem.Hash(body)
	// A request sent again (its answer lost) is answered before its photos are checked again: one
	// consistent read, a fifth of a write's price.
	if f, err := s.store.FiledReport(ctx, id); err != nil {
		return Report{}, fmt.Errorf("read report %s: %w", id, err)
	} else if f != nil {
		return answer(*f, p.Sub, hash)
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	photos, err := s.VerifyPhotos(ctx, p.Sub, n.PhotoKeys)
	if err != nil {
		return Report{}, err
	}
	r := Report{
		ID: id, Status: Submitted, Category: n.Category, Description: n.Description, Location: loc,
		Address: n.Address, Photos: photos, Anonymous: n.Anonymous, Public: PublicFlag(n.Public), ReporterSub: p.Sub,
		CreatedAt: now, UpdatedAt: now,
	}
	existing, err := s.store.InsertReport(ctx, r, hash)
	switch {
	case err == nil && existing == nil:
		return AsFiled(r), nil
	case err == nil:
		// The report exists: this very write, applied by an earlier send whose answer was lost (the SDK
		// sent it again), or another request with the same key that landed first. Either way the stored
		// report is the answer; photo versions only this request wrote are undone.
		return s.settle(ctx, *existing, r, p.Sub, hash)
	case apperr.NotApplied(err):
		return Report{}, errors.Join(fmt.Errorf("create report %s: %w", id, err), s.DeletePhotos(ctx, photos))
	}
	// The outcome is unknown: read it back, on a context of its own (the request's may be what ran out).
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	f, rerr := s.store.FiledReport(lctx, id)
	if rerr == nil && f != nil {
		return s.settle(lctx, *f, r, p.Sub, hash)
	}
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("read report after an unknown outcome: %w", rerr))
	}
	// Not there (yet): the write may still land, so the photos stay; the client sends the request again
	// and gets this report or a new one with the same id.
	return Report{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("create report %s: %w", id, err))
}

// settle answers from the stored report f after this request's own write r met it, deleting the photo
// versions r wrote that f does not point to.
func (s *Service) settle(ctx context.Context, f Filed, r Report, sub, hash string) (Report, error) {
	var mine []Photo
	for _, ph := range r.Photos {
		if !slices.ContainsFunc(f.Report.Photos, func(o Photo) bool { return o.Key == ph.Key && o.VersionID == ph.VersionID }) {
			mine = append(mine, ph)
		}
	}
	out, err := answer(f, sub, hash)
	if derr := s.DeletePhotos(ctx, mine); derr != nil {
		return out, errors.Join(err, fmt.Errorf("delete photos of a request answered by report %s: %w", f.Report.ID, derr))
	}
	return out, err
}

// answer is what a request with body hash gets for the stored report f: the report as it was filed, the
// first request's very answer, when the bodies match; idempotency_key_reused when they do not.
func answer(f Filed, sub, hash string) (Report, error) {
	if f.BodyHash != hash || f.Report.ReporterSub != sub {
		return Report{}, idem.ErrKeyReused
	}
	return AsFiled(f.Report), nil
}

// AsFiled is report r as its creation answered it: submitted, with its first timeline entry and none of
// what happened since (the stored report may have moved on by the time a request is sent again).
func AsFiled(r Report) Report {
	return Report{
		ID: r.ID, Status: Submitted, Category: r.Category, Description: r.Description, Location: r.Location,
		Address: r.Address, Photos: r.Photos, Anonymous: r.Anonymous, Public: r.Public, ReporterSub: r.ReporterSub,
		CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt, Timeline: []TimelineEntry{Filing(r.CreatedAt)},
	}
}

// Filing is a report's first timeline entry, implied by its creation time (it is not stored).
func Filing(at time.Time) TimelineEntry {
	return TimelineEntry{At: at, Status: Submitted, Actor: "citizen"}
}

// ReportID is the id of the report that caller sub files with Idempotency-Key key: a name-based UUID
// (version 5, SHA-1, in the namespace below) of both, so every send of one request names the same report
// and no two callers' keys meet. Open311's ids are version 8 (NewOpen311ID) and cannot collide with these.
func ReportID(sub, key string) string {
	return uuid.NewSHA1(reportIDNamespace(), []byte(sub+"\x00"+key)).String()
}

// reportIDNamespace is fixed forever: changing it would give a request sent again a new report.
func reportIDNamespace() uuid.UUID {
	return uuid.UUID{0x6f, 0x0d, 0x2c, 0x1e, 0x9a, 0x44, 0x5b, 0x1e, 0x8c, 0x3d, 0x2a, 0x7b, 0x9e, 0x4f, 0x1c, 0x60}
}

// create moves the photos and writes the report under claim. What a failure leaves depends on what is
// known about it:
//   - refused for certain with the claim still this request's (bad photos; apperr.NotApplied: a conflict
//     or throttling, nothing written): the copied photos are deleted and the claim released, so nothing is
//     left and the client may send the request again;
//   - refused because the key is no longer this request's (idem.ErrInFlight: another request took it
//     over, with the same report id and so the same photo keys): nothing is touched, the photos may be
//     the other request's;
//   - unknown (the store did not answer: the transaction may have committed): the outcome is read from the
//     key. Done by this request means it succeeded, and the report is the answer. Otherwise the copies and
//     the claim stay: a replay of the key takes the claim over when its lease ends and writes the same
//     photo keys, and a client that never comes back leaves orphans (the lease, then the key's TTL, end
//     the claim).
func (s *Service) create(ctx context.Context, p auth.Principal, claim idem.Record, n NewReport, loc Location, now time.Time) (Report, error) {
	release := func(err error) error {
		// A refused request leaves nothing, its claim included: a release refused for a transient reason
		// (a conflict, throttling: nothing deleted) is sent again, a few times.
		var relErr error
		for range 3 {
			if relErr = s.store.ReleaseKey(context.WithoutCancel(ctx), claim); !apperr.NotApplied(relErr) {
				break
			}
		}
		if relErr != nil {
			return errors.Join(err, fmt.Errorf("release idempotency key: %w", relErr))
		}
		return err
	}
	id := claim.ResourceID
	photos, err := s.VerifyPhotos(ctx, p.Sub, n.PhotoKeys)
	if err != nil {
		return Report{}, release(err)
	}
	r := Report{
		ID: id, Status: Submitted, Category: n.Category, Description: n.Description, Location: loc,
		Address: n.Address, Photos: photos, Anonymous: n.Anonymous, Public: PublicFlag(n.Public), ReporterSub: p.Sub,
		CreatedAt: now, UpdatedAt: now,
		Timeline: []TimelineEntry{{At: now, Status: Submitted, Actor: "citizen"}},
	}
	result, err := json.Marshal(r)
	if err != nil {
		return Report{}, release(errors.Join(fmt.Errorf("encode result: %w", err), s.DeletePhotos(ctx, photos)))
	}
	claim.Status, claim.Result = idem.Done, result
	err = s.store.CreateReport(ctx, r, claim)
	switch {
	case err == nil:
		return r, nil
	case errors.Is(err, idem.ErrInFlight):
		return Report{}, err
	case apperr.NotApplied(err):
		return Report{}, release(errors.Join(fmt.Errorf("create report %s: %w", id, err), s.DeletePhotos(ctx, photos)))
	}
	// The outcome is unknown: learn it from the key, on a context of its own (the request's may be what
	// ran out).
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rec, rerr := s.store.IdempotencyRecord(lctx, claim.Scope, claim.Owner, claim.Key)
	if rerr == nil && rec != nil && rec.Status == idem.Done && rec.ResourceID == id && rec.Attempt == claim.Attempt {
		return r, nil
	}
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("read idempotency key after an unknown outcome: %w", rerr))
	}
	return Report{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("create report %s: %w", id, err))
}

// Get returns report id as p may see it. Citizens other than the reporter get ErrNotFound.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (Report, error) {
	if err := p.Require(auth.Citizen, auth.Staff, auth.Admin); err != nil {
		return Report{}, err
	}
	if !validID(id) {
		return Report{}, ErrNotFound
	}
	r, err := s.store.GetReport(ctx, id)
	if err != nil {
		return Report{}, err
	}
	if !r.CanView(p) {
		return Report{}, ErrNotFound
	}
	return r.For(p), nil
}

// ReaderPhotoTTL is how long the links of a report read by its reporter or staff are valid: a page that
// shows the report reads it again when it opens it.
const ReaderPhotoTTL = 15 * time.Minute

// Viewed is a report as GET /v1/reports/{id} answers it: with links to its photos and proof photos (in
// the order of photos and proofPhotos), each of the version the report records, valid for PhotoLinkTTL.
// Unlike the public map's they cover every photo of every report the reader may see (rejected, duplicate
// and private ones too).
type Viewed struct {
	Report
	PhotoLinks      []MapPhoto `json:"photoLinks"`
	ProofPhotoLinks []MapPhoto `json:"proofPhotoLinks,omitempty"`
}

// View is Get with the report's photos linked. Presigning is computed here: it calls nothing.
func (s *Service) View(ctx context.Context, p auth.Principal, id string) (Viewed, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return Viewed{}, err
	}
	v := Viewed{Report: r, PhotoLinks: []MapPhoto{}}
	if s.cfg.Links == nil {
		return v, nil
	}
	all := func(Photo) bool { return true }
	if v.PhotoLinks, err = linkPhotos(ctx, s.cfg.Links, r.Photos, s.cfg.PhotoLinkTTL, all); err != nil {
		return Viewed{}, err
	}
	if v.ProofPhotoLinks, err = linkPhotos(ctx, s.cfg.Links, r.ProofPhotos, s.cfg.PhotoLinkTTL, all); err != nil {
		return Viewed{}, err
	}
	if len(v.ProofPhotoLinks) == 0 {
		v.ProofPhotoLinks = nil
	}
	return v, nil
}

// Page is one page of a listing.
type Page struct {
	Items      []Report `json:"items"`
	NextCursor string   `json:"nextCursor,omitempty"`
}

// DefaultLimit is the page size when the caller names none.
const DefaultLimit = 20

// ListMine returns the caller's reports newest first.
func (s *Service) ListMine(ctx context.Context, p auth.Principal, limit int, cursor string) (Page, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Page{}, err
	}
	if limit == 0 {
		limit = DefaultLimit
	}
	if limit < 1 || limit > 100 {
		return Page{}, ErrInvalidLimit
	}
	items, next, err := s.store.ListByReporter(ctx, p.Sub, limit, cursor)
	if err != nil {
		if apperr.KindOf(err) != apperr.Internal {
			return Page{}, err
		}
		return Page{}, fmt.Errorf("list reports of caller: %w", err)
	}
	if items == nil {
		items = []Report{}
	}
	return Page{Items: items, NextCursor: next}, nil
}

// validID accepts the ids newID makes (UUIDs), so junk never reaches the store.
func validID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c == '-') {
			return false
		}
	}
	return true
}
