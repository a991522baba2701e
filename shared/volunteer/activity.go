package volunteer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mmcloughlin/geohash"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geo"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// Listing bounds.
const (
	DefaultRadiusKm = 5.0
	MaxRadiusKm     = 50.0
	MaxEveryDays    = 28 // days between two shifts of a recurring publication
	SecretBytes     = 20 // of an activity's code secret (RFC 4226's recommended length for SHA1)
	// PlaceHashPrecision is the geohash length of the listing's sort key (cells of about 1.2 × 0.6 km).
	PlaceHashPrecision = 6
	maxCoverCells      = 4 // Queries one listing makes at most
)

// Recurrence repeats a publication: Count shifts, EveryDays apart.
type Recurrence struct {
	EveryDays int `json:"everyDays"`
	Count     int `json:"count"`
}

// ActivityInput is what an organiser publishes.
type ActivityInput struct {
	TeamID      string      `json:"teamId"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Description string      `json:"description"`
	Start       time.Time   `json:"start"`
	End         time.Time   `json:"end"`
	Place       Place       `json:"place"`
	Capacity    int         `json:"capacity"`
	Skills      []string    `json:"skills"`
	Recurrence  *Recurrence `json:"recurrence,omitempty"`
}

// checkPlace validates a place: a point with a radius, or a GeoJSON Polygon of at most MaxVertices.
func checkPlace(pl Place) (Place, error) {
	name, err := text("place.name", pl.Name, MaxText, false)
	if err != nil {
		return pl, err
	}
	pl.Name = name
	if !validPoint(pl.Lat, pl.Lng) {
		return pl, ErrInvalid.With("place.lat and place.lng must be a point (-90..90, -180..180)")
	}
	if len(pl.Geometry) == 0 || string(pl.Geometry) == "null" {
		pl.Geometry = nil
		if pl.RadiusM < MinRadiusM || pl.RadiusM > MaxRadiusM {
			return pl, ErrInvalid.With("place.radiusM must be %d to %d (or give a polygon)", MinRadiusM, MaxRadiusM)
		}
		return pl, nil
	}
	if pl.RadiusM != 0 {
		return pl, ErrInvalid.With("place has a radius or a polygon, not both")
	}
	poly, err := Polygon(pl.Geometry)
	if err != nil {
		return pl, err
	}
	n := 0
	for _, ring := range poly {
		if len(ring) < 4 || !ring.Closed() {
			return pl, ErrInvalid.With("place.geometry: each ring is closed and has at least 4 positions")
		}
		for _, p := range ring {
			if !validPoint(p.Lat(), p.Lon()) {
				return pl, ErrInvalid.With("place.geometry: positions are [lng, lat] in range")
			}
		}
		n += len(ring) - 1
	}
	if n > MaxVertices {
		return pl, ErrInvalid.With("place.geometry has %d vertices; at most %d", n, MaxVertices)
	}
	return pl, nil
}

// Polygon decodes a place's GeoJSON Polygon.
func Polygon(raw []byte) (orb.Polygon, error) {
	// Decoded by hand: orb's geojson package pulls in a BSON library for its own marshalling.
	var g struct {
		Type        string         `json:"type"`
		Coordinates [][][2]float64 `json:"coordinates"`
	}
	if err := json.Unmarshal(raw, &g); err != nil || g.Type != "Polygon" || len(g.Coordinates) == 0 {
		return nil, ErrInvalid.With("place.geometry must be a GeoJSON Polygon")
	}
	poly := make(orb.Polygon, len(g.Coordinates))
	for i, ring := range g.Coordinates {
		poly[i] = make(orb.Ring, len(ring))
		for j, c := range ring {
			poly[i][j] = orb.Point{c[0], c[1]}
		}
	}
	return poly, nil
}

func validPoint(lat, lng float64) bool {
	return !math.IsNaN(lat) && !math.IsNaN(lng) && lat >= -90 && lat <= 90 && lng >= -180 && lng <= 180 &&
		(lat == 0 || math.Abs(lat) >= 1e-7) && (lng == 0 || math.Abs(lng) >= 1e-7)
}

// Check validates the input against now (an activity starts in the future).
func (in ActivityInput) Check(now time.Time) (ActivityInput, error) {
	if in.TeamID == "" || !isID(in.TeamID, 64) {
		return in, ErrInvalid.With("teamId must be a team id")
	}
	if !slices.Contains(Types(), in.Type) {
		return in, ErrInvalid.With("type must be one of %s", strings.Join(Types(), ", "))
	}
	var err error
	if in.Title, err = text("title", in.Title, MaxTitle, true); err != nil {
		return in, err
	}
	if strings.ContainsRune(in.Title, '\n') {
		return in, ErrInvalid.With("title is one line")
	}
	if in.Description, err = text("description", in.Description, MaxText, false); err != nil {
		return in, err
	}
	if in.Start.IsZero() || in.End.IsZero() || !in.End.After(in.Start) {
		return in, ErrInvalid.With("start and end are RFC 3339 times, end after start")
	}
	if in.End.Sub(in.Start) > MaxWindow {
		return in, ErrInvalid.With("an activity lasts at most %s", MaxWindow)
	}
	if !in.Start.After(now) {
		return in, ErrInvalid.With("start must be in the future")
	}
	if in.Place, err = checkPlace(in.Place); err != nil {
		return in, err
	}
	if in.Capacity < 1 || in.Capacity > MaxCapacity {
		return in, ErrInvalid.With("capacity must be 1 to %d", MaxCapacity)
	}
	if in.Skills, err = skills(in.Skills); err != nil {
		return in, err
	}
	if r := in.Recurrence; r != nil {
		if r.EveryDays < 1 || r.EveryDays > MaxEveryDays {
			return in, ErrInvalid.With("recurrence.everyDays must be 1 to %d", MaxEveryDays)
		}
		if r.Count < 1 || r.Count > MaxOccurrences {
			return in, ErrInvalid.With("recurrence.count must be 1 to %d", MaxOccurrences)
		}
	}
	in.Start, in.End = in.Start.UTC().Truncate(time.Millisecond), in.End.UTC().Truncate(time.Millisecond)
	return in, nil
}

// publicationID is the id of the publication of (organiser, Idempotency-Key): a re-sent request names the
// same activities, whose conditional writes then find them.
func publicationID(sub, key string) string {
	sum := sha256.Sum256([]byte(sub + "\x00" + key))
	return hex.EncodeToString(sum[:12])
}

// Shifts returns the activities of one publication: one, or Recurrence.Count shifts EveryDays apart (by
// the local calendar in tz), ids "<publication>" or "<publication>-<n>".
func Shifts(in ActivityInput, pubID, organiser string, now time.Time, tz *time.Location, secret func() ([]byte, error)) ([]Activity, error) {
	n, every := 1, 0
	if in.Recurrence != nil {
		n, every = in.Recurrence.Count, in.Recurrence.EveryDays
	}
	length := in.End.Sub(in.Start)
	out := make([]Activity, 0, n)
	for i := range n {
		start := in.Start.In(tz).AddDate(0, 0, i*every).UTC()
		a := Activity{
			ID: pubID, TeamID: in.TeamID, Type: in.Type, Title: in.Title, Description: in.Description,
			Start: start, End: start.Add(length), Place: in.Place, Capacity: in.Capacity, Skills: in.Skills,
			Status: ActivityOpen, Organiser: organiser, CreatedAt: now.UTC().Truncate(time.Millisecond),
		}
		if in.Recurrence != nil {
			a.ID, a.SeriesID = fmt.Sprintf("%s-%02d", pubID, i+1), pubID
		}
		s, err := secret()
		if err != nil {
			return nil, err
		}
		a.Secret = s
		out = append(out, a)
	}
	return out, nil
}

// Publish publishes an activity (or Recurrence.Count shifts of it) for a team the caller organises.
func (s *Service) Publish(ctx context.Context, p auth.Principal, key string, body []byte, in ActivityInput) ([]Activity, error) {
	if p.Sub == "" {
		return nil, auth.ErrUnauthenticated
	}
	if err := idem.ValidateKey(key); err != nil {
		return nil, err
	}
	now := s.now()
	in, err := in.Check(now)
	if err != nil {
		return nil, err
	}
	if _, err := s.requireOrganiser(ctx, p, in.TeamID); err != nil {
		return nil, err
	}
	acts, err := Shifts(in, publicationID(p.Sub, key), p.Sub, now, s.tz, func() ([]byte, error) {
		b := make([]byte, SecretBytes)
		_, err := io.ReadFull(s.rand, b)
		return b, err
	})
	if err != nil {
		return nil, err
	}
	return s.store.PublishActivities(ctx, acts, idem.Hash(body))
}

// ListQuery asks for the activities of a local day, near a point when Near is set.
type ListQuery struct {
	Day      string // YYYY-MM-DD, a local day
	Near     *orb.Point
	RadiusKm float64
}

// Listed is an activity in a listing, with its distance from the point asked about.
type Listed struct {
	Activity
	DistanceM float64 `json:"distanceM,omitempty"`
}

// ParseListQuery reads ?date=&near=lat,lng&radiusKm=.
func ParseListQuery(date, near, radius string, tz *time.Location) (ListQuery, error) {
	if _, err := time.ParseInLocation("2006-01-02", date, tz); err != nil {
		return ListQuery{}, ErrInvalid.With("date must be a day YYYY-MM-DD")
	}
	q := ListQuery{Day: date, RadiusKm: DefaultRadiusKm}
	if radius != "" {
		var r float64
		if _, err := fmt.Sscanf(radius, "%g", &r); err != nil || math.IsNaN(r) || r <= 0 || r > MaxRadiusKm {
			return ListQuery{}, ErrInvalid.With("radiusKm must be a number above 0, at most %g", MaxRadiusKm)
		}
		q.RadiusKm = r
	}
	if near != "" {
		var lat, lng float64
		la, ln, ok := strings.Cut(near, ",")
		_, e1 := fmt.Sscanf(la, "%g", &lat)
		_, e2 := fmt.Sscanf(ln, "%g", &lng)
		if !ok || e1 != nil || e2 != nil || !validPoint(lat, lng) {
			return ListQuery{}, ErrInvalid.With("near must be lat,lng")
		}
		pt := orb.Point{lng, lat}
		q.Near = &pt
	}
	return q, nil
}

// Cover returns the geohash prefixes, all of one precision (PlaceHashPrecision down to 1), whose cells
// together cover the circle of radiusKm around pt, at most maxCoverCells of them.
func Cover(pt orb.Point, radiusKm float64) []string {
	b := geo.NewBoundAroundPoint(pt, radiusKm*1000)
	for p := uint(PlaceHashPrecision); p >= 1; p-- {
		var cells []string
		row := geohash.EncodeWithPrecision(b.Min.Lat(), b.Min.Lon(), p)
		ok := true
	rows:
		for {
			c := row
			for {
				cells = append(cells, c)
				if len(cells) > maxCoverCells {
					ok = false
					break rows
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
		if ok {
			slices.Sort(cells)
			return slices.Compact(cells)
		}
	}
	return nil // the whole day
}

// List returns the open activities of a day, nearest first when a point is given (within RadiusKm),
// otherwise by start.
func (s *Service) List(ctx context.Context, q ListQuery) ([]Listed, error) {
	var cells []string
	if q.Near != nil {
		cells = Cover(*q.Near, q.RadiusKm)
	}
	acts, err := s.store.ActivitiesOn(ctx, q.Day, cells)
	if err != nil {
		return nil, err
	}
	out := make([]Listed, 0, len(acts))
	for _, a := range acts {
		if a.Status != ActivityOpen {
			continue
		}
		l := Listed{Activity: a}
		if q.Near != nil {
			l.DistanceM = geo.Distance(*q.Near, orb.Point{a.Place.Lng, a.Place.Lat})
			if l.DistanceM > q.RadiusKm*1000 {
				continue
			}
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b Listed) int {
		if a.DistanceM != b.DistanceM {
			if a.DistanceM < b.DistanceM {
				return -1
			}
			return 1
		}
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// ActivityView is an activity with the caller's sign-up and attendance.
type ActivityView struct {
	Activity   Activity    `json:"activity"`
	Signup     *Signup     `json:"signup,omitempty"`
	Attendance *Attendance `json:"attendance,omitempty"`
}

// Get returns an activity with the caller's sign-up and attendance, when they exist.
func (s *Service) Get(ctx context.Context, p auth.Principal, id string) (ActivityView, error) {
	if p.Sub == "" {
		return ActivityView{}, auth.ErrUnauthenticated
	}
	a, su, _, err := s.store.ActivityWithSignup(ctx, id, p.Sub)
	if err != nil {
		return ActivityView{}, err
	}
	v := ActivityView{Activity: a, Signup: su}
	if s.att != nil && v.Signup != nil {
		at, err := s.att.Attendance(ctx, id, p.Sub)
		switch {
		case err == nil:
			v.Attendance = &at
		case !errors.Is(err, ErrNotFound):
			return ActivityView{}, err
		}
	}
	return v, nil
}

// Cancel cancels an activity (an organiser of its team). Its sign-ups stay as they are.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string) (Activity, error) {
	a, err := s.requireActivityOrganiser(ctx, p, id)
	if err != nil {
		return Activity{}, err
	}
	if a.Status == ActivityCancelled {
		return a, nil
	}
	return s.store.CancelActivity(ctx, id)
}

// requireActivityOrganiser reads an activity and refuses a caller who does not organise its team.
func (s *Service) requireActivityOrganiser(ctx context.Context, p auth.Principal, id string) (Activity, error) {
	if p.Sub == "" {
		return Activity{}, auth.ErrUnauthenticated
	}
	a, err := s.store.Activity(ctx, id)
	if err != nil {
		return Activity{}, err
	}
	if _, err := s.requireOrganiser(ctx, p, a.TeamID); err != nil {
		return Activity{}, err
	}
	return a, nil
}
