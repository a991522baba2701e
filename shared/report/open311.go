package report

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/photo"
)

// Reports filed through Open311 (shared/open311) enter here: the same categories, location rules,
// photo checks, idempotent write and so the same dispatch and duplicate rules as a citizen's report, with
// three differences. The reporter is the client application ("open311-<client id>", which earns no
// points) unless a trusted client names a civicsnap user; a photo arrives as bytes the client's media_url
// pointed to, not as a presigned upload; and the report may have no photo (GeoReport's media_url is
// optional).

// ApplicationOwnerPrefix begins the owner of a report filed by a client application rather than a person.
// The points service pays no one whose sub begins with it.
const ApplicationOwnerPrefix = "open311-"

// ApplicationOwner is the owner of reports filed by Open311 client clientID.
func ApplicationOwner(clientID string) string { return ApplicationOwnerPrefix + clientID }

// IsOpen311ID reports whether a report id was made by NewOpen311ID. Open311 report ids are UUIDs of
// version 8 (RFC 9562's custom version) made from a version 7: still time-ordered and of the shape every
// id check accepts, and their timeline entries are the ones indexed for mySociety's updates extension
// (dynamostore), so citizens' reports write no extra index entry.
func IsOpen311ID(id string) bool { return len(id) == 36 && id[14] == '8' && validID(id) }

// NewOpen311ID turns a fresh UUID into an Open311 report id.
func NewOpen311ID(uuid string) string {
	if len(uuid) != 36 {
		return uuid
	}
	return uuid[:14] + "8" + uuid[15:]
}

// Attribute is a question a category asks beyond the usual fields (GeoReport's service definition
// attribute): a street light's pole number, say. Codes are ASCII (clients double-encode values whose
// code is not); names and descriptions may be any language.
type Attribute struct {
	Code        string           `json:"code"`
	Datatype    string           `json:"datatype"` // string, number, datetime, text, singlevaluelist, multivaluelist
	Required    bool             `json:"required"`
	Description string           `json:"description"`
	Hint        string           `json:"hint,omitempty"` // GeoReport's datatype_description
	Order       int              `json:"order"`
	Values      []AttributeValue `json:"values,omitempty"` // for the list types
}

// AttributeValue is one choice of a list attribute.
type AttributeValue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// Attribute datatypes of GeoReport v2.
const (
	TypeString   = "string"
	TypeNumber   = "number"
	TypeDatetime = "datetime"
	TypeText     = "text"
	TypeSingle   = "singlevaluelist"
	TypeMulti    = "multivaluelist"
)

// ValidAttributeCode reports whether code may name an attribute: 1–64 of a–z, 0–9 and '_', starting
// with a letter.
func ValidAttributeCode(code string) bool {
	if len(code) < 1 || len(code) > 64 || code[0] < 'a' || code[0] > 'z' {
		return false
	}
	for i := 0; i < len(code); i++ {
		c := code[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// Errors of Open311 intake.
var (
	ErrAttribute     = apperr.New(apperr.Invalid, "invalid_attribute", "an attribute value is missing or not valid")
	ErrAddressOnly   = apperr.New(apperr.Invalid, "location_required", "lat and long are required: this server does not geocode address_string")
	ErrMediaTooLarge = apperr.New(apperr.Invalid, "photo_too_large", "the media_url's photo is larger than allowed")
)

// Open311Report is a report as an Open311 client files it, decoded by shared/open311.
type Open311Report struct {
	ClientID string
	// Reporter is the civicsnap user a trusted client names (account_id), "" for the client application.
	Reporter    string
	Category    string
	Description string // CRLF and CR are read as newlines
	Lat, Long   *float64
	Address     string
	Attributes  map[string][]string // attribute[code] as posted
	// Photo is the media_url's content, fetched by the caller through the egress guard and capped at the
	// upload limit; nil for none.
	Photo []byte
	// Body is the request as received: the idempotency key is its hash per client, so a client that sends
	// the same request again (its answer lost) gets the same report back.
	Body []byte
}

// MaxUploadBytes is the largest photo accepted (the media_url fetch cap).
func (s *Service) MaxUploadBytes() int64 { return s.cfg.MaxUploadBytes }

// CreateOpen311 files an Open311 report the way Create files a citizen's: every check that needs no I/O
// first, a request sent again answered from the stored report, the photo verified, then one conditional
// write of the report; a refused request leaves nothing (a staged photo a refusal leaves is the sweeper's).
func (s *Service) CreateOpen311(ctx context.Context, in Open311Report) (Report, error) {
	cats, _, err := s.categories(ctx)
	if err != nil {
		return Report{}, err
	}
	cat, ok := cats[in.Category]
	if !ok || !cat.Active {
		return Report{}, ErrUnknownCategory.With("no such service_code %q", in.Category)
	}
	desc := strings.ReplaceAll(strings.ReplaceAll(in.Description, "\r\n", "\n"), "\r", "\n")
	extra, err := AttributeLines(cat, in.Attributes)
	if err != nil {
		return Report{}, err
	}
	if extra != "" {
		desc = strings.TrimRight(desc, "\n") + "\n\n" + extra
		desc = strings.TrimLeft(desc, "\n")
	}
	if !plainText(desc, MaxDescription) {
		return Report{}, ErrDescription
	}
	if !plainText(in.Address, MaxAddress) || strings.ContainsAny(in.Address, "\n\t") {
		return Report{}, ErrAddress
	}
	if in.Lat == nil || in.Long == nil {
		if in.Address != "" {
			return Report{}, ErrAddressOnly
		}
		return Report{}, ErrLocationMissing.With("lat and long are required")
	}
	loc := Location{Lat: *in.Lat, Lng: *in.Long}
	if math.IsNaN(loc.Lat) || math.IsNaN(loc.Lng) || !s.cfg.BBox.Contains(loc) {
		return Report{}, ErrOutsideCity
	}
	reporter := ApplicationOwner(in.ClientID)
	if in.Reporter != "" {
		reporter = in.Reporter
	}
	if !validOwner(reporter) {
		return Report{}, ErrUnsupportedCaller
	}
	var typ string
	if in.Photo != nil {
		if int64(len(in.Photo)) > s.cfg.MaxUploadBytes {
			return Report{}, ErrMediaTooLarge
		}
		if typ = photo.Sniff(in.Photo); typ == "" {
			return Report{}, ErrPhotoNotImage.With("the media_url is not a JPEG, PNG, WebP or HEIC image")
		}
	}

	// The report is its own idempotency record, as intake's are: its id is a name-based UUID of the client
	// and the request's body (version 8, so it is known for an Open311 report), so every send of one request
	// names the same report.
	hash := idem.Hash(in.Body)
	id := NewOpen311ID(ReportID(ApplicationOwner(in.ClientID), hash))
	if f, err := s.store.FiledReport(ctx, id); err != nil {
		return Report{}, fmt.Errorf("read report %s: %w", id, err)
	} else if f != nil {
		return answer(*f, reporter, hash)
	}

	now := s.now().UTC().Truncate(time.Millisecond)
	var keys []string
	if in.Photo != nil {
		// The fetched photo becomes an upload of the reporter's and then takes the path every upload takes:
		// checked, stripped and stored as the report's photo. If the report is never written, the sweeper
		// deletes it with the day's other unused uploads.
		key := s.uploadKey(photo.Ext(typ))
		if err := s.photos.Put(ctx, key, reporter, typ, in.Photo); err != nil {
			return Report{}, fmt.Errorf("stage media_url photo: %w", err)
		}
		keys = []string{key}
	}
	photos, err := s.VerifyPhotos(ctx, reporter, keys)
	if err != nil {
		return Report{}, err
	}
	r := Report{
		ID: id, Status: Submitted, Category: in.Category, Description: desc, Location: loc, Address: in.Address,
		Photos: photos, ReporterSub: reporter, CreatedAt: now, UpdatedAt: now,
	}
	existing, err := s.store.InsertReport(ctx, r, hash)
	switch {
	case err == nil && existing == nil:
		return AsFiled(r), nil
	case err == nil:
		return s.settle(ctx, *existing, r, reporter, hash)
	case apperr.NotApplied(err):
		return Report{}, errors.Join(fmt.Errorf("create report %s: %w", id, err), s.DeletePhotos(ctx, photos))
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	f, rerr := s.store.FiledReport(lctx, id)
	if rerr == nil && f != nil {
		return s.settle(lctx, *f, r, reporter, hash)
	}
	if rerr != nil {
		err = errors.Join(err, fmt.Errorf("read report after an unknown outcome: %w", rerr))
	}
	return Report{}, apperr.ErrOutcomeUnknown.Wrap(fmt.Errorf("create report %s: %w", id, err))
}

// AttributeLines checks the posted attribute values against the category's attributes and returns them
// as lines for the description ("<description>: <value>", in the category's order), which is how the
// departments receive them. Required attributes must be present; codes the category does not ask for are
// ignored (clients add their own, e.g. FixMyStreet's fixmystreet_id); an empty optional value is no value.
func AttributeLines(cat Category, posted map[string][]string) (string, error) {
	attrs := slices.Clone(cat.Attributes)
	slices.SortStableFunc(attrs, func(a, b Attribute) int { return a.Order - b.Order })
	var lines []string
	for _, a := range attrs {
		var vals []string
		for _, v := range posted[a.Code] {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			if a.Required {
				return "", ErrAttribute.With("attribute[%s] is required", a.Code)
			}
			continue
		}
		if a.Datatype != TypeMulti && len(vals) > 1 {
			return "", ErrAttribute.With("attribute[%s] takes one value", a.Code)
		}
		shown := make([]string, 0, len(vals))
		for _, v := range vals {
			name, err := checkAttributeValue(a, v)
			if err != nil {
				return "", err
			}
			shown = append(shown, name)
		}
		label := a.Description
		if label == "" {
			label = a.Code
		}
		lines = append(lines, label+": "+strings.Join(shown, ", "))
	}
	return strings.Join(lines, "\n"), nil
}

// checkAttributeValue checks one value and returns what the description shows for it.
func checkAttributeValue(a Attribute, v string) (string, error) {
	bad := func(want string) error { return ErrAttribute.With("attribute[%s] must be %s", a.Code, want) }
	if !plainText(v, 200) || strings.ContainsAny(v, "\n\t") {
		return "", bad("one line of plain text of at most 200 characters")
	}
	switch a.Datatype {
	case TypeNumber:
		if f, err := strconv.ParseFloat(v, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", bad("a number")
		}
	case TypeDatetime:
		if _, err := time.Parse(time.RFC3339, v); err != nil {
			return "", bad("a date and time with a zone (2026-11-30T17:52:08+08:00)")
		}
	case TypeSingle, TypeMulti:
		i := slices.IndexFunc(a.Values, func(x AttributeValue) bool { return x.Key == v })
		if i < 0 {
			return "", bad("one of the definition's value keys")
		}
		return a.Values[i].Name, nil
	}
	return v, nil
}

// PublicPhoto reports whether a stored photo's key names no person, so that a link to it (which shows
// the key) may be given to anyone, as Open311's media_url: photos/<day>/<uuid>.<ext> names no one (the
// uploader is the object's owner metadata), nor do keys under a report (reports/<id>/…, before issue 11).
func PublicPhoto(p Photo) bool {
	if strings.HasPrefix(p.Key, "reports/") {
		return true
	}
	_, ok := parseUploadKey(p.Key)
	return ok
}
