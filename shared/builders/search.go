package builders

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mmcloughlin/geohash"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/civicsnap/civicsnap/shared/auth"
)

// Search rules (README "Builders' home", the search):
const (
	DefaultSearchRadiusKm = 10
	// CellPrecision is the geohash length of the listing and matching cells (about 39 × 20 km).
	CellPrecision = 4
	// SearchPerCell bounds the listed jobs a search reads of one cell (the newest): the search pages
	// through that bounded set.
	SearchPerCell = 500
	// maxCoverCells bounds the cells a search's circle covers (50 km at the equator needs 4 × 7).
	maxCoverCells = 40
)

// SearchQuery is a worker's job search: GET /v1/jobs?near=lat,lng&radiusKm=&trade=&minWage=&cursor=.
type SearchQuery struct {
	Near     *Point
	RadiusKm float64
	Trade    string
	MinWage  float64 // a daily wage (yuan a day); 0 = any
	Cursor   string
}

// ParseSearchQuery reads the search's query parameters.
func ParseSearchQuery(near, radius, trade, minWage, cursor string) (SearchQuery, error) {
	q := SearchQuery{RadiusKm: DefaultSearchRadiusKm, Trade: trade, Cursor: cursor}
	if radius != "" {
		r, err := strconv.ParseFloat(radius, 64)
		if err != nil || math.IsNaN(r) || r <= 0 || r > MaxRadiusKm {
			return q, ErrInvalid.With("radiusKm must be a number above 0, at most %d", MaxRadiusKm)
		}
		q.RadiusKm = r
	}
	if near != "" {
		la, ln, ok := strings.Cut(near, ",")
		lat, e1 := strconv.ParseFloat(strings.TrimSpace(la), 64)
		lng, e2 := strconv.ParseFloat(strings.TrimSpace(ln), 64)
		if !ok || e1 != nil || e2 != nil || !validPoint(lat, lng) {
			return q, ErrInvalid.With("near must be lat,lng")
		}
		q.Near = &Point{Lat: lat, Lng: lng}
	}
	if trade != "" && !IsTrade(trade) {
		return q, ErrUnknownTrade.With("trade %q is not a trade of GET /v1/builders/trades", trade)
	}
	if minWage != "" {
		w, err := strconv.ParseFloat(minWage, 64)
		if err != nil || math.IsNaN(w) || w < 0 || w > maxWage {
			return q, ErrInvalid.With("minWage must be a daily wage in yuan, 0 to %d", maxWage)
		}
		q.MinWage = w
	}
	if len(cursor) > 512 {
		return q, ErrInvalid.With("the cursor is not valid")
	}
	return q, nil
}

// Cover returns the geohash cells of precision CellPrecision that together cover the circle of radiusKm
// around pt (sorted, at most maxCoverCells; nil when more would be needed).
func Cover(pt Point, radiusKm float64) []string {
	b := geo.NewBoundAroundPoint(orb.Point{pt.Lng, pt.Lat}, radiusKm*1000)
	var cells []string
	row := geohash.EncodeWithPrecision(b.Min.Lat(), b.Min.Lon(), CellPrecision)
	for {
		c := row
		for {
			cells = append(cells, c)
			if len(cells) > maxCoverCells {
				return nil
			}
			if geohash.BoundingBox(c).MaxLng >= b.Max.Lon() {
				break
			}
			c = geohash.Neighbor(c, geohash.East)
		}
		if geohash.BoundingBox(row).MaxLat >= b.Max.Lat() {
			break
		}
		row = geohash.Neighbor(row, geohash.North)
	}
	slices.Sort(cells)
	return slices.Compact(cells)
}

// DistanceKm is the great-circle distance between two points.
func DistanceKm(a, b Point) float64 {
	return geo.Distance(orb.Point{a.Lng, a.Lat}, orb.Point{b.Lng, b.Lat}) / 1000
}

// searchCursor is where the next page of a search starts: after (day, distance, id) in the search's order.
type searchCursor struct {
	Day string  `json:"d"`
	Km  float64 `json:"k"`
	ID  string  `json:"i"`
}

func (c searchCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeSearchCursor(s string) (searchCursor, error) {
	var c searchCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID == "" || len(c.Day) != len(time.DateOnly) || math.IsNaN(c.Km) {
		return searchCursor{}, ErrInvalid.With("the cursor is not valid")
	}
	return c, nil
}

// listed is a candidate of a search, in the search's order.
type listed struct {
	key JobKey
	day string
	km  float64
}

// searchOrder is the search's order: newest local posting day first, nearest first within a day, then id.
func searchOrder(a, b listed) int {
	if a.day != b.day {
		return -strings.Compare(a.day, b.day)
	}
	if a.km != b.km {
		if a.km < b.km {
			return -1
		}
		return 1
	}
	return strings.Compare(a.key.ID, b.key.ID)
}

// sortListed sorts candidates in the search's order.
func sortListed(c []listed) { slices.SortFunc(c, searchOrder) }

// cellOf is the listing cell of a point.
func cellOf(p Point) string { return geohash.EncodeWithPrecision(p.Lat, p.Lng, CellPrecision) }

// SearchEventID is the search record's event id: (local day, worker, the normalised query), so a re-sent
// or repeated identical search the same day counts once. The point is rounded to 3 decimals (about 100
// m); the cursor is no part of it (a next page continues the same search).
func SearchEventID(day, sub string, q SearchQuery, pt Point) string {
	norm := fmt.Sprintf("%.3f,%.3f|%g|%s|%g", pt.Lat, pt.Lng, q.RadiusKm, q.Trade, q.MinWage)
	sum := sha256.Sum256([]byte(norm))
	return day + "#" + sub + "#" + hex.EncodeToString(sum[:8])
}

// SearchJobs finds open jobs near a point (the query's, or the caller's worker area): within the radius,
// of the trade if given, paying at least MinWage a day; newest local posting day first, nearest first
// within a day; at most MaxPageSize a page. A search by a worker writes one search record per event id.
func (s *Service) SearchJobs(ctx context.Context, p auth.Principal, q SearchQuery) ([]Job, string, error) {
	if p.Sub == "" {
		return nil, "", auth.ErrUnauthenticated
	}
	var after *searchCursor
	if q.Cursor != "" {
		c, err := decodeSearchCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		after = &c
	}
	w, err := s.store.Worker(ctx, p.Sub)
	isWorker := err == nil
	if err != nil && !errors.Is(err, ErrNotWorker) {
		return nil, "", err
	}
	var pt Point
	switch {
	case q.Near != nil:
		pt = *q.Near
	case isWorker:
		pt = Point{Lat: w.Area.Lat, Lng: w.Area.Lng}
	default:
		return nil, "", ErrInvalid.With("near=lat,lng is required (or opt in to a worker profile with an area)")
	}
	cells := Cover(pt, q.RadiusKm)
	keys, err := s.store.ListedJobs(ctx, q.Trade, cells, SearchPerCell)
	if err != nil {
		return nil, "", err
	}
	cands := make([]listed, 0, len(keys))
	for _, k := range keys {
		km := DistanceKm(pt, Point{Lat: k.Lat, Lng: k.Lng})
		if km > q.RadiusKm {
			continue
		}
		l := listed{key: k, day: k.CreatedAt.In(s.tz).Format(time.DateOnly), km: math.Round(km*1000) / 1000}
		if after != nil && searchOrder(l, listed{key: JobKey{ID: after.ID}, day: after.Day, km: after.Km}) <= 0 {
			continue
		}
		cands = append(cands, l)
	}
	sortListed(cands)
	cands = slices.CompactFunc(cands, func(a, b listed) bool { return a.key.ID == b.key.ID })
	today := s.today()
	var out []Job
	var last listed
	next := ""
	for start := 0; start < len(cands) && len(out) < MaxPageSize; {
		chunk := cands[start:min(start+MaxPageSize, len(cands))]
		ids := make([]string, len(chunk))
		for i, c := range chunk {
			ids[i] = c.key.ID
		}
		jobs, err := s.store.JobsByID(ctx, ids)
		if err != nil {
			return nil, "", err
		}
		byID := make(map[string]Job, len(jobs))
		for _, j := range jobs {
			byID[j.ID] = j
		}
		for _, c := range chunk {
			start++
			j, ok := byID[c.key.ID]
			if !ok || j.Status != JobOpen || j.Hired >= j.Headcount {
				continue
			}
			if j.EndDate < today {
				if err := s.store.ExpireJob(ctx, j, today); err != nil {
					return nil, "", err
				}
				continue
			}
			if _, hi := Daily(j.Wage); hi < q.MinWage {
				continue
			}
			km := c.km
			j.DistanceKm = &km
			j.Applications = 0
			out = append(out, j)
			last = c
			if len(out) == MaxPageSize {
				if start < len(cands) {
					next = searchCursor{Day: last.day, Km: last.km, ID: last.key.ID}.encode()
				}
				break
			}
		}
	}
	if isWorker {
		rec := Record{ID: SearchEventID(today, p.Sub, q, pt), Kind: RecSearch, N: 1, Sub: p.Sub, Detail: q.Trade, At: s.now().UTC()}
		if _, err := s.store.PutBuilderRecord(ctx, rec); err != nil {
			return nil, "", err
		}
	}
	if out == nil {
		out = []Job{}
	}
	return out, next, nil
}
