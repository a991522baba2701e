package report

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// The public map (GET /v1/public/reports) and "me too" (metoo.go).
//
// Every report is filed under two geohashes of its location (the store's map index, keyed by the report's
// own immutable attributes so that no status change rewrites its entry): its MapPartitionPrecision-cell as
// the partition and its MapKeyPrecision-cell (then its creation time) as the sort key. A bounding box is
// covered by cells of one precision from MapPartitionPrecision to MaxMapPrecision — the finest whose cover
// has at most MaxMapCells cells — and each cell is read as a prefix of the sort key within its partition:
// a street reads a few 150 m cells, the whole city (Mengzi, 0.40° × 0.45°) at most a dozen 39 × 20 km
// partitions; a box that would need more than MaxMapCells partitions is refused (bbox_too_large).
const (
	MapPartitionPrecision = 4  // ≈ 39 km × 19.5 km
	MapKeyPrecision       = 9  // ≈ 4.8 m × 4.8 m
	MaxMapPrecision       = 7  // ≈ 153 m × 153 m: the finest cover
	MaxMapCells           = 16 // cells one request may read
	// PublicPhotoTTL is how long a public photo link is valid; a cached page (PublicMaxAge) and a 304
	// (answered only within the PublicETagWindow the page was made in) leave its links at least 45 minutes.
	PublicPhotoTTL   = time.Hour
	PublicMaxAge     = time.Minute
	PublicETagWindow = 15 * time.Minute
	// PublicRequestsPerMinute is each client address's allowance of public map requests per UTC minute.
	PublicRequestsPerMinute = 60
	// publicQueriesPerPage bounds the index Queries of one page (a selective filter may need several per
	// cell); a page that reaches it ends early with a cursor.
	publicQueriesPerPage = 2*MaxMapCells + 8
)

// Errors of the public map and me too. Codes are part of the API: never change one.
var (
	ErrBBox         = apperr.New(apperr.Invalid, "invalid_bbox", "bbox must be minLat,minLng,maxLat,maxLng with min < max, on the globe")
	ErrBBoxTooLarge = apperr.New(apperr.Invalid, "bbox_too_large", "the bbox needs more map cells than one request reads: ask a smaller one")
	ErrPublicStatus = apperr.New(apperr.Invalid, "invalid_status", "status must be open or a public status")
	ErrSince        = apperr.New(apperr.Invalid, "invalid_since", "since must be an RFC 3339 time")
	ErrPublicFilter = apperr.New(apperr.Invalid, "invalid_category", "category must be a category code")
)

// PublicStatus reports whether a report in status s is on the public map: open or resolved; never one that
// was rejected, revoked or linked to an original as a duplicate.
func PublicStatus(s Status) bool { return s.Open() || s == Resolved }

// knownStatuses are every status a report may have; Open and PublicStatus say which are which.
var knownStatuses = [...]Status{Submitted, Dispatched, Accepted, InProgress, Resolved, Duplicate, NeedsTriage, Rejected, Revoked, Reopened}

// OpenStatuses lists the statuses Open accepts (the store's condition of a me too).
func OpenStatuses() []Status {
	var out []Status
	for _, s := range knownStatuses {
		if s.Open() {
			out = append(out, s)
		}
	}
	return out
}

// MapKeys returns the map index keys of a report at l created at created (its timeKey form).
func MapKeys(l Location, created string) (partition, sortKey string) {
	h := geohash.EncodeWithPrecision(l.Lat, l.Lng, MapKeyPrecision)
	return h[:MapPartitionPrecision], h + "#" + created
}

// Cover returns the geohash cells of one precision that together cover b: the finest precision, down to
// MapPartitionPrecision, whose cover has at most MaxMapCells cells. ErrBBoxTooLarge if even that has more.
func Cover(b BBox) ([]string, error) {
	for p := uint(MaxMapPrecision); p >= MapPartitionPrecision; p-- {
		if cells, ok := cover(b, p, MaxMapCells); ok {
			return cells, nil
		}
	}
	return nil, ErrBBoxTooLarge
}

// cover walks b's cells of precision p row by row from the south-west corner; false once it passes max.
func cover(b BBox, p uint, max int) ([]string, bool) {
	var cells []string
	row := geohash.EncodeWithPrecision(b.MinLat, b.MinLng, p)
	for {
		c := row
		for {
			cells = append(cells, c)
			if len(cells) > max {
				return nil, false
			}
			if geohash.BoundingBox(c).MaxLng >= b.MaxLng {
				break
			}
			c = geohash.Neighbor(c, geohash.East)
		}
		if geohash.BoundingBox(row).MaxLat >= b.MaxLat {
			return cells, true
		}
		row = geohash.Neighbor(row, geohash.North)
	}
}

// MapQuery is a public map request, parsed.
type MapQuery struct {
	BBox     BBox
	Statuses []Status // empty: every public status
	Category string   // "": any
	Since    time.Time
	Limit    int
	Cursor   string
}

// MapFilter is what the store checks on its index entries (all immutable facts of a report).
type MapFilter struct {
	BBox     BBox
	Category string
	Since    time.Time
}

// ParseMapQuery reads the query parameters of GET /v1/public/reports.
func ParseMapQuery(get func(string) string) (MapQuery, error) {
	var q MapQuery
	raw := get("bbox")
	if raw == "" || len(raw) > 128 {
		return q, ErrBBox
	}
	b, err := ParseBBox(raw)
	if err != nil || !finite(b.MinLat, b.MinLng, b.MaxLat, b.MaxLng) {
		return q, ErrBBox
	}
	q.BBox = b
	if s := get("status"); s != "" {
		for _, one := range strings.Split(s, ",") {
			switch st := Status(one); {
			case one == "open":
				q.Statuses = append(q.Statuses, OpenStatuses()...)
			case PublicStatus(st):
				q.Statuses = append(q.Statuses, st)
			default:
				return q, ErrPublicStatus
			}
		}
	}
	if c := get("category"); c != "" {
		if len(c) > 32 || strings.ContainsFunc(c, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '_' || r >= '0' && r <= '9') }) {
			return q, ErrPublicFilter
		}
		q.Category = c
	}
	if s := get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return q, ErrSince
		}
		q.Since = t.UTC()
	}
	q.Limit = 50
	if l := get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 100 {
			return q, ErrInvalidLimit
		}
		q.Limit = n
	}
	q.Cursor = get("cursor")
	return q, nil
}

func finite(fs ...float64) bool {
	for _, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

// mapCursor is where a page ended: the cover cell it was reading and the store's position in it. Bound
// to the query it came from (Q), so it cannot be replayed with other parameters.
type mapCursor struct {
	Q     string `json:"q"`
	Cell  int    `json:"c"`
	After string `json:"a,omitempty"`
}

// fingerprint names a query's parameters (not its page).
func (q MapQuery) fingerprint() string {
	h := sha256.New()
	json.NewEncoder(h).Encode([]any{q.BBox, q.Statuses, q.Category, q.Since.UnixMilli()}) //nolint:errcheck // a hash never fails
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:9])
}

func encodeMapCursor(c mapCursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeMapCursor(s string, q MapQuery, cells int) (mapCursor, error) {
	var c mapCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Q != q.fingerprint() || c.Cell < 0 || c.Cell >= cells {
		return mapCursor{}, ErrInvalidCursor
	}
	return c, nil
}

// MapPhoto is a photo as the public sees it: a link to its stored (stripped) version.
type MapPhoto struct {
	URL         string `json:"url"`
	ContentType string `json:"contentType"`
}

// PublicReport is a report as the public map shows it. It has no field that could name its reporter: no
// sub, name or phone, and no description or address (free text a reporter may sign).
type PublicReport struct {
	ID          string     `json:"id"`
	Category    string     `json:"category"`
	Status      Status     `json:"status"`
	Location    Location   `json:"location"`
	LeadDept    string     `json:"leadDept,omitempty"`
	Photos      []MapPhoto `json:"photos"`
	ProofPhotos []MapPhoto `json:"proofPhotos,omitempty"`
	MeToo       int        `json:"meToo"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	ResolvedAt  *time.Time `json:"resolvedAt,omitempty"`
}

// MapPage is one page of the public map.
type MapPage struct {
	Items      []PublicReport `json:"items"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// PublicStore is what the public map and me too need from the store.
type PublicStore interface {
	// MapCell returns the ids of the reports filed under cell (a geohash of MapPartitionPrecision to
	// MapKeyPrecision characters) that pass f, at most limit, from after (a position it returned, "" for
	// the start), and the position after the last one read ("" at the cell's end). It may return fewer
	// than limit with a position (its filter dropped entries).
	MapCell(ctx context.Context, cell string, f MapFilter, limit int, after string) (ids []string, next string, err error)
	// PublicReports reads the reports named (any order; missing ones left out), without their reporters.
	PublicReports(ctx context.Context, ids []string) ([]MapReport, error)
	// CountPublicRequest counts request requestID of addr in window against limit: false when the
	// allowance is used up (a re-sent count of the same request is true again, not counted twice).
	CountPublicRequest(ctx context.Context, addr, window, requestID string, limit int, expires time.Time) (bool, error)
	// MeTooTarget reads what a me too checks on a report (status, reporter, lead, count), ErrNotFound.
	MeTooTarget(ctx context.Context, id string) (MeTooTarget, error)
	// AddMeToo writes sub's marker on the report and adds one to the report's and its lead assignment's
	// counts, in one transaction: false (and nothing written) if the marker exists. ErrMeTooClosed or
	// ErrMeTooOwn if the report's state refuses it at write time.
	AddMeToo(ctx context.Context, t MeTooTarget, sub string, at time.Time) (bool, error)
}

// MapReport is a report as the map reads it: no reporter, no timeline, and its me too count.
type MapReport struct {
	Report
	MeToo int
}

// PhotoLinker presigns reads of stored photo versions.
type PhotoLinker interface {
	PresignGet(ctx context.Context, key, versionID string, ttl time.Duration) (string, error)
}

// PublicService serves the public map and me too.
type PublicService struct {
	store PublicStore
	links PhotoLinker
	now   func() time.Time
}

// NewPublicService returns a PublicService.
func NewPublicService(store PublicStore, links PhotoLinker, now func() time.Time) *PublicService {
	return &PublicService{store: store, links: links, now: now}
}

// Limit counts a public request of addr (its client address) against its allowance of the current UTC
// minute. When it is used up it returns the time to the next minute (the edge answers 429 with it as
// Retry-After), else 0.
func (s *PublicService) Limit(ctx context.Context, addr, requestID string) (time.Duration, error) {
	now := s.now().UTC()
	window := now.Truncate(time.Minute)
	if len(addr) == 0 || len(addr) > 64 {
		addr = "unknown"
	}
	ok, err := s.store.CountPublicRequest(ctx, addr, window.Format("2006-01-02T15:04"), requestID, PublicRequestsPerMinute, window.Add(2*time.Minute))
	if err != nil || ok {
		return 0, err
	}
	return window.Add(time.Minute).Sub(now), nil
}

// Check refuses a query Map would refuse before it reads anything (a bbox too large, a cursor of another
// query), so that the edge can refuse it before it counts the request, which is a write.
func (q MapQuery) Check() error {
	cells, err := Cover(q.BBox)
	if err == nil && q.Cursor != "" {
		_, err = decodeMapCursor(q.Cursor, q, len(cells))
	}
	return err
}

// Map returns one page of the public map for q.
func (s *PublicService) Map(ctx context.Context, q MapQuery) (MapPage, error) {
	cells, err := Cover(q.BBox)
	if err != nil {
		return MapPage{}, err
	}
	pos := mapCursor{Q: q.fingerprint()}
	if q.Cursor != "" {
		if pos, err = decodeMapCursor(q.Cursor, q, len(cells)); err != nil {
			return MapPage{}, err
		}
	}
	f := MapFilter{BBox: q.BBox, Category: q.Category, Since: q.Since}
	var ids []string
	next := ""
	for queries := 0; ; queries++ {
		if queries == publicQueriesPerPage {
			next = encodeMapCursor(pos)
			break
		}
		got, after, err := s.store.MapCell(ctx, cells[pos.Cell], f, q.Limit-len(ids), pos.After)
		if err != nil {
			return MapPage{}, err
		}
		ids = append(ids, got...)
		pos.After = after
		if after == "" {
			pos.Cell++
			if pos.Cell == len(cells) {
				break
			}
		}
		if len(ids) == q.Limit {
			next = encodeMapCursor(pos)
			break
		}
	}
	page := MapPage{Items: []PublicReport{}, NextCursor: next}
	if len(ids) == 0 {
		return page, nil
	}
	reports, err := s.store.PublicReports(ctx, ids)
	if err != nil {
		return MapPage{}, err
	}
	order := make(map[string]int, len(ids))
	for i, id := range ids {
		order[id] = i
	}
	slices.SortFunc(reports, func(a, b MapReport) int { return order[a.ID] - order[b.ID] })
	for _, r := range reports {
		if !PublicStatus(r.Status) || len(q.Statuses) > 0 && !slices.Contains(q.Statuses, r.Status) {
			continue
		}
		v, err := s.Public(ctx, r)
		if err != nil {
			return MapPage{}, err
		}
		page.Items = append(page.Items, v)
	}
	return page, nil
}

// Public is r as the public sees it, its photos linked for PublicPhotoTTL.
func (s *PublicService) Public(ctx context.Context, r MapReport) (PublicReport, error) {
	v := PublicReport{ID: r.ID, Category: r.Category, Status: r.Status, Location: r.Location, LeadDept: r.LeadDept,
		MeToo: r.MeToo, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ResolvedAt: r.ResolvedAt}
	var err error
	if v.Photos, err = s.link(ctx, r.Photos); err != nil {
		return PublicReport{}, err
	}
	if v.ProofPhotos, err = s.link(ctx, r.ProofPhotos); err != nil {
		return PublicReport{}, err
	}
	if len(v.ProofPhotos) == 0 {
		v.ProofPhotos = nil
	}
	return v, nil
}

func (s *PublicService) link(ctx context.Context, photos []Photo) ([]MapPhoto, error) {
	// A key of another shape may name its uploader: never linked publicly.
	return linkPhotos(ctx, s.links, photos, PublicPhotoTTL, PublicPhoto)
}

// linkPhotos links the photos keep admits, each of the version the report records, for ttl: every link
// to a report's photo is made here (the public map, a report's reader).
func linkPhotos(ctx context.Context, links PhotoLinker, photos []Photo, ttl time.Duration, keep func(Photo) bool) ([]MapPhoto, error) {
	out := make([]MapPhoto, 0, len(photos))
	for _, p := range photos {
		if !keep(p) {
			continue
		}
		u, err := links.PresignGet(ctx, p.Key, p.VersionID, ttl)
		if err != nil {
			return nil, err
		}
		out = append(out, MapPhoto{URL: u, ContentType: p.ContentType})
	}
	return out, nil
}
