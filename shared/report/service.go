package report

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

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
	if s.cats != nil && s.now().Sub(s.catsLoaded) < s.cfg.CategoryTTL {
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
	key := s.uploadKey(owner, photo.Ext(contentType))
	up, err := s.photos.PresignUpload(ctx, key, contentType, s.cfg.MaxUploadBytes, s.cfg.UploadTTL)
	if err != nil {
		return Upload{}, fmt.Errorf("presign upload: %w", err)
	}
	return up, nil
}

// Create files a new report for p. body is the raw request (its hash binds the idempotency key) and n its
// decoded form. A rejected request leaves nothing behind: validation that needs no I/O runs before the key
// is claimed, and a claim is released when the photos turn out to be bad.
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

	now := s.now().UTC().Truncate(time.Millisecond)
	claim := idem.Record{
		Scope: "report", Owner: p.Sub, Key: key, BodyHash: idem.Hash(body), Status: idem.InFlight,
		ResourceID: s.newID(), LockedUntil: now.Add(idem.Lease), ExpiresAt: now.Add(idem.TTL), ClaimedAt: now,
	}
	// The resource id is fresh per request, so it names this request too; a take-over below keeps the
	// name and adopts the earlier request's resource id.
	claim.Attempt = claim.ResourceID
	existing, err := s.store.ClaimKey(ctx, claim)
	if err != nil {
		return Report{}, fmt.Errorf("claim idempotency key: %w", err)
	}
	if existing != nil {
		outcome, err := idem.Decide(*existing, claim.BodyHash, now)
		if err != nil {
			return Report{}, err
		}
		if outcome == idem.Replay {
			var r Report
			if err := json.Unmarshal(existing.Result, &r); err != nil {
				return Report{}, fmt.Errorf("decode stored result: %w", err)
			}
			return r, nil
		}
		// The earlier attempt died mid-way: carry on under its claim and with its report id, so at most one
		// report can ever come of this key.
		claim.ResourceID = existing.ResourceID
		if err := s.store.TakeOverKey(ctx, claim, existing.LockedUntil); err != nil {
			return Report{}, err
		}
	}

	return s.create(ctx, p, claim, n, loc, now)
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
		Address: n.Address, Photos: photos, Anonymous: n.Anonymous, ReporterSub: p.Sub,
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
