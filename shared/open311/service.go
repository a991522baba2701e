package open311

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Settings of the service.
type Settings struct {
	// Jurisdiction is the city's jurisdiction_id: accepted on any call, any other refused.
	Jurisdiction string
	Contact      string
}

// Service answers GeoReport v2 and mySociety's updates extension.
type Service struct {
	store   Store
	reports Reports
	config  Config
	links   PhotoLinks
	media   MediaFetcher
	set     Settings
	tz      *time.Location
	now     func() time.Time
	newID   func() string
}

// NewService returns a Service. now and newID are injected so tests are deterministic.
func NewService(store Store, reports Reports, config Config, links PhotoLinks, media MediaFetcher, set Settings,
	tz *time.Location, now func() time.Time, newID func() string) *Service {
	return &Service{store: store, reports: reports, config: config, links: links, media: media, set: set, tz: tz, now: now, newID: newID}
}

// Limits of the read calls.
const (
	// MaxWindow is the longest start_date–end_date span of GET requests, and its default look-back.
	MaxWindow = 90 * 24 * time.Hour
	// MaxUpdatesWindow bounds GET servicerequestupdates: FixMyStreet asks for the minutes since its last
	// poll; a week lets a client that was down catch up.
	MaxUpdatesWindow = 7 * 24 * time.Hour
	// MaxUpdates is the most updates one answer carries.
	MaxUpdates = 1000
	// DefaultPageSize and MaxPageSize bound GET requests' pages; MaxIDs the service_request_id list.
	DefaultPageSize = 50
	MaxPageSize     = 100
	MaxIDs          = 50
	// maxDayQueries bounds the day partitions one page reads (an empty window of 90 days reads 90).
	maxDayQueries = 100
)

// CheckJurisdiction refuses a jurisdiction_id other than the city's ("" is the city's).
func (s *Service) CheckJurisdiction(id string) error {
	if id != "" && id != s.set.Jurisdiction {
		return ErrJurisdiction
	}
	return nil
}

// Discovery is the discovery document for the API at baseURL.
func (s *Service) Discovery(baseURL string) Discovery {
	return Discovery{
		Changeset: "2026-11-30T00:00:00Z", Contact: s.set.Contact,
		KeyService: "api_keys are issued by the city's administrators (civicsnap admin API)",
		Endpoints: []Endpoint{{
			Specification: "http://wiki.open311.org/GeoReport_v2", URL: baseURL, Changeset: "2026-11-30T00:00:00Z",
			Type: "production", Formats: []string{"text/xml", "application/json"},
		}},
	}
}

// Services lists the active categories as services.
func (s *Service) Services(ctx context.Context) (Services, error) {
	cfg, err := s.config.Get(ctx)
	if err != nil {
		return Services{}, err
	}
	codes := make([]string, 0, len(cfg.Categories))
	for code, c := range cfg.Categories {
		if c.Active {
			codes = append(codes, code)
		}
	}
	slices.Sort(codes)
	out := Services{Items: make([]ServiceItem, 0, len(codes))}
	for _, code := range codes {
		c := cfg.Categories[code]
		group := c.Group
		if d, ok := cfg.Departments[c.Group]; ok {
			group = d.NameZH
		}
		out.Items = append(out.Items, ServiceItem{
			ServiceCode: c.Code, ServiceName: c.NameZH, Description: c.NameEN, Metadata: len(c.Attributes) > 0,
			Type: "realtime", Keywords: strings.Join(c.Keywords, ","), Group: group,
		})
	}
	return out, nil
}

// Definition is a service's definition: its attributes in order.
func (s *Service) Definition(ctx context.Context, code string) (ServiceDefinition, error) {
	cfg, err := s.config.Get(ctx)
	if err != nil {
		return ServiceDefinition{}, err
	}
	c, ok := cfg.Categories[code]
	if !ok || !c.Active {
		return ServiceDefinition{}, ErrServiceCode
	}
	attrs := slices.Clone(c.Attributes)
	slices.SortStableFunc(attrs, func(a, b report.Attribute) int { return a.Order - b.Order })
	def := ServiceDefinition{ServiceCode: code, Attributes: make([]ServiceAttribute, 0, len(attrs))}
	for _, a := range attrs {
		sa := ServiceAttribute{Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required,
			DatatypeDescription: a.Hint, Order: a.Order, Description: a.Description}
		for _, v := range a.Values {
			sa.Values = append(sa.Values, AttributeValue(v))
		}
		def.Attributes = append(def.Attributes, sa)
	}
	return def, nil
}

// Authorize checks an api_key and counts the request against the client's per-minute limit.
func (s *Service) Authorize(ctx context.Context, key string) (Client, error) {
	if key == "" {
		return Client{}, ErrKeyRequired
	}
	id, ok := clientIDOfKey(key)
	if !ok {
		return Client{}, ErrKeyInvalid
	}
	c, err := s.store.Client(ctx, id)
	if err == ErrClientMissing || (err == nil && (c.RevokedAt != nil || !keyMatches(c, key))) {
		return Client{}, ErrKeyInvalid
	}
	if err != nil {
		return Client{}, err
	}
	now := s.now().UTC()
	window := now.Truncate(time.Minute)
	limit := c.RequestsPerMinute
	if limit <= 0 {
		limit = DefaultRequestsPerMinute
	}
	allowed, err := s.store.CountRequest(ctx, c.ID, window.Format("2006-01-02T15:04"), s.newID(), limit, window.Add(2*time.Minute))
	if err != nil {
		return Client{}, err
	}
	if !allowed {
		return Client{}, &LimitError{RetryAfter: window.Add(time.Minute).Sub(now)}
	}
	return c, nil
}

// Submit files a report from a POST requests form. body is the raw form (its hash per client is the
// idempotency key: the same POST sent twice files one report).
func (s *Service) Submit(ctx context.Context, c Client, form url.Values, body []byte) (ServiceRequests, error) {
	in := report.Open311Report{ClientID: c.ID, Category: form.Get("service_code"), Description: form.Get("description"),
		Address: strings.TrimSpace(form.Get("address_string")), Body: body, Attributes: map[string][]string{}}
	if in.Category == "" {
		return ServiceRequests{}, ErrParam.With("service_code is required")
	}
	for k, vs := range form {
		if code, ok := strings.CutPrefix(k, "attribute["); ok && strings.HasSuffix(code, "]") {
			in.Attributes[strings.TrimSuffix(code, "]")] = vs
		}
	}
	var err error
	if in.Lat, err = optFloat(form, "lat"); err != nil {
		return ServiceRequests{}, err
	}
	if in.Long, err = optFloat(form, "long"); err != nil {
		return ServiceRequests{}, err
	}
	if acct := form.Get("account_id"); acct != "" {
		// Only a trusted client may make a person the reporter; others' account_id is ignored, as GeoReport
		// lets a server ignore it, since it proves nothing.
		if c.Trusted {
			in.Reporter = acct
		}
	}
	// Names, email, phone and device id are the reporter's: never stored, never shown.
	if mu := strings.TrimSpace(form.Get("media_url")); mu != "" {
		if in.Photo, err = s.media.Fetch(ctx, mu, s.reports.MaxUploadBytes()); err != nil {
			return ServiceRequests{}, err
		}
	}
	r, err := s.reports.CreateOpen311(ctx, in)
	if err != nil {
		return ServiceRequests{}, err
	}
	return ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: r.ID,
		ServiceNotice: "The city's departments are notified within minutes."}}}, nil
}

func optFloat(form url.Values, name string) (*float64, error) {
	v := strings.TrimSpace(form.Get(name))
	if v == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, ErrParam.With("%s must be a decimal number", name)
	}
	return &f, nil
}

// Request is one report as a one-item list (GeoReport answers requests/{id} that way).
func (s *Service) Request(ctx context.Context, id string) (ServiceRequests, error) {
	if !report.IsOpen311ID(id) && !validReportID(id) {
		return ServiceRequests{}, ErrRequestID
	}
	r, err := s.store.GetReport(ctx, id)
	if err == report.ErrNotFound || err == nil && r.Private() {
		return ServiceRequests{}, ErrRequestID // a report filed as not public is unknown to keyless callers
	}
	if err != nil {
		return ServiceRequests{}, err
	}
	cfg, err := s.config.Get(ctx)
	if err != nil {
		return ServiceRequests{}, err
	}
	sr, err := s.view(ctx, cfg, r)
	if err != nil {
		return ServiceRequests{}, err
	}
	for i := len(r.Timeline) - 1; i >= 0; i-- {
		if r.Timeline[i].Note != "" {
			sr.StatusNotes = r.Timeline[i].Note
			break
		}
	}
	return ServiceRequests{Items: []ServiceRequest{sr}}, nil
}

// Token resolves a token. Requests are filed synchronously (POST answers the service_request_id), so a
// token is the id itself; the call exists for clients that always ask.
func (s *Service) Token(ctx context.Context, token string) (ServiceRequests, error) {
	out, err := s.Request(ctx, token)
	if err != nil {
		return ServiceRequests{}, err
	}
	return ServiceRequests{Items: []ServiceRequest{{ServiceRequestID: out.Items[0].ServiceRequestID, Token: token}}}, nil
}

// Requests answers GET requests: the listed ids, or the window's reports newest first, one page; next is
// the query of the following page (nil at the end): q with its window pinned (a default window moves with
// the clock) and the page cursor.
func (s *Service) Requests(ctx context.Context, q url.Values) (out ServiceRequests, next url.Values, err error) {
	cfg, err := s.config.Get(ctx)
	if err != nil {
		return ServiceRequests{}, nil, err
	}
	if ids := q.Get("service_request_id"); ids != "" {
		list := strings.Split(ids, ",")
		if len(list) > MaxIDs {
			return ServiceRequests{}, nil, ErrParam.With("at most %d service_request_id values", MaxIDs)
		}
		var valid []string
		for _, id := range list {
			if id = strings.TrimSpace(id); validReportID(id) && !slices.Contains(valid, id) {
				valid = append(valid, id)
			}
		}
		items, err := s.views(ctx, cfg, valid)
		return ServiceRequests{Items: items}, nil, err
	}
	dq, cur, err := s.listQuery(cfg, q)
	if err != nil {
		return ServiceRequests{}, nil, err
	}
	pageSize := dq.Limit
	var reports []report.Report
	day, after := cur.day, cur.after
	for range maxDayQueries {
		dq.Limit, dq.After = pageSize-len(reports), after
		got, more, err := s.store.CreatedOn(ctx, day, dq)
		if err != nil {
			return ServiceRequests{}, nil, err
		}
		reports = append(reports, got...)
		switch {
		case more != "":
			after = more
		case day <= cur.firstDay:
			day = ""
		default:
			day, after = prevDay(day), ""
		}
		if day == "" || len(reports) >= pageSize {
			break
		}
	}
	items := make([]ServiceRequest, 0, len(reports))
	for _, r := range reports {
		sr, err := s.view(ctx, cfg, r)
		if err != nil {
			return ServiceRequests{}, nil, err
		}
		items = append(items, sr)
	}
	if day != "" {
		next = url.Values{}
		for k, v := range q {
			next[k] = slices.Clone(v)
		}
		next.Set("start_date", dq.From.UTC().Format(time.RFC3339Nano))
		next.Set("end_date", dq.To.UTC().Format(time.RFC3339Nano))
		next.Set("page", encodeCursor(listCursor{day: day, after: after, firstDay: cur.firstDay}))
	}
	return ServiceRequests{Items: items}, next, nil
}

// listCursor is where a page of GET requests stopped: the day it was reading and the last key read.
type listCursor struct{ day, after, firstDay string }

func encodeCursor(c listCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.day + "|" + c.after + "|" + c.firstDay))
}

func decodeCursor(s string) (listCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 200 {
		return listCursor{}, false
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || !validDay(parts[0]) || !validDay(parts[2]) || parts[2] > parts[0] {
		return listCursor{}, false
	}
	return listCursor{day: parts[0], after: parts[1], firstDay: parts[2]}, true
}

func validDay(d string) bool {
	_, err := time.Parse("2006-01-02", d)
	return err == nil
}

func prevDay(d string) string {
	t, _ := time.Parse("2006-01-02", d)
	return t.AddDate(0, 0, -1).Format("2006-01-02")
}

// listQuery reads GET requests' filters: the window (default the last 90 days), service_code, status,
// page_size and the page cursor.
func (s *Service) listQuery(cfg *dispatch.Config, q url.Values) (DayQuery, listCursor, error) {
	now := s.now()
	from, to := now.Add(-MaxWindow), now
	var err error
	if v := q.Get("end_date"); v != "" {
		if to, err = ParseW3C(v); err != nil {
			return DayQuery{}, listCursor{}, ErrDateRange
		}
	}
	if v := q.Get("start_date"); v != "" {
		if from, err = ParseW3C(v); err != nil {
			return DayQuery{}, listCursor{}, ErrDateRange
		}
	} else if q.Get("end_date") != "" {
		from = to.Add(-MaxWindow)
	}
	if !from.Before(to) || to.Sub(from) > MaxWindow {
		return DayQuery{}, listCursor{}, ErrDateRange
	}
	dq := DayQuery{From: from, To: to, Limit: DefaultPageSize}
	if code := q.Get("service_code"); code != "" {
		if _, ok := cfg.Categories[code]; !ok {
			return DayQuery{}, listCursor{}, ErrServiceCode
		}
		dq.Category = code
	}
	switch q.Get("status") {
	case "":
	case Open:
		dq.Statuses = []report.Status{report.Submitted, report.Dispatched, report.Accepted, report.InProgress, report.NeedsTriage, report.Reopened}
	case Closed:
		dq.Statuses = []report.Status{report.Resolved, report.Duplicate, report.Rejected, report.Revoked}
	default:
		return DayQuery{}, listCursor{}, ErrParam.With("status must be open or closed")
	}
	if v := q.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return DayQuery{}, listCursor{}, ErrParam.With("page_size must be 1 to %d", MaxPageSize)
		}
		dq.Limit = n
	}
	cur := listCursor{day: to.In(s.tz).Format("2006-01-02"), firstDay: from.In(s.tz).Format("2006-01-02")}
	if v := q.Get("page"); v != "" {
		c, ok := decodeCursor(v)
		if !ok || c.firstDay != cur.firstDay || c.day > cur.day {
			return DayQuery{}, listCursor{}, ErrParam.With("page is not a page this server returned for this window")
		}
		cur = c
	}
	return dq, cur, nil
}

// views reads reports by id and renders them, in the order of ids.
func (s *Service) views(ctx context.Context, cfg *dispatch.Config, ids []string) ([]ServiceRequest, error) {
	if len(ids) == 0 {
		return []ServiceRequest{}, nil
	}
	reports, err := s.store.ReportsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]report.Report, len(reports))
	for _, r := range reports {
		byID[r.ID] = r
	}
	out := make([]ServiceRequest, 0, len(reports))
	for _, id := range ids {
		r, ok := byID[id]
		if !ok || r.Private() {
			continue // unknown, or filed as not public: left out as unknown ids are
		}
		sr, err := s.view(ctx, cfg, r)
		if err != nil {
			return nil, err
		}
		out = append(out, sr)
	}
	return out, nil
}

// view renders a report as GeoReport shows it. Nothing of the reporter is in it.
func (s *Service) view(ctx context.Context, cfg *dispatch.Config, r report.Report) (ServiceRequest, error) {
	lat, lng := r.Location.Lat, r.Location.Lng
	sr := ServiceRequest{
		ServiceRequestID: r.ID, Status: StatusOf(r.Status), ServiceCode: r.Category,
		ServiceName: cfg.Categories[r.Category].NameZH, Description: r.Description,
		RequestedDatetime: W3C(r.CreatedAt, s.tz), UpdatedDatetime: W3C(r.UpdatedAt, s.tz),
		Address: r.Address, Lat: &lat, Long: &lng,
	}
	if r.LeadDept != "" {
		sr.AgencyResponsible = r.LeadDept
		if d, ok := cfg.Departments[r.LeadDept]; ok {
			sr.AgencyResponsible = d.NameZH
		}
		if a, ok := r.Assignment(r.LeadDept); ok && r.Status.Open() {
			sr.ExpectedDatetime = W3C(a.SLADeadline, s.tz)
		}
	}
	// A link shows its photo's key: only photos whose keys name no person are linked (report.PublicPhoto).
	if len(r.Photos) > 0 && report.PublicPhoto(r.Photos[0]) {
		u, err := s.links.PhotoURL(ctx, r.Photos[0])
		if err != nil {
			return ServiceRequest{}, fmt.Errorf("link photo of %s: %w", r.ID, err)
		}
		sr.MediaURL = u
	}
	return sr, nil
}

// validReportID accepts the shape of report ids (UUIDs), so junk never reaches the store.
func validReportID(id string) bool {
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

// Updates answers mySociety's GET servicerequestupdates: the window's changes and public notes of
// reports filed through Open311, oldest first.
func (s *Service) Updates(ctx context.Context, q url.Values) (Updates, error) {
	now := s.now()
	from, to := now.Add(-24*time.Hour), now
	var err error
	if v := q.Get("start_date"); v != "" {
		if from, err = ParseW3C(v); err != nil {
			return Updates{}, ErrDateRange
		}
	}
	if v := q.Get("end_date"); v != "" {
		if to, err = ParseW3C(v); err != nil {
			return Updates{}, ErrDateRange
		}
	}
	if !from.Before(to) || to.Sub(from) > MaxUpdatesWindow {
		return Updates{}, ErrDateRange.With("start_date must be before end_date, at most 7 days apart")
	}
	var out Updates
	for day := from.UTC().Truncate(24 * time.Hour); !day.After(to); day = day.Add(24 * time.Hour) {
		got, err := s.store.UpdatesOn(ctx, day.Format("2006-01-02"), from, to, MaxUpdates-len(out.Items))
		if err != nil {
			return Updates{}, err
		}
		for _, u := range got {
			out.Items = append(out.Items, Update{UpdateID: u.UpdateID, ServiceRequestID: u.ReportID,
				Status: UpdateStatus(u.Entry.Status, u.Entry.Actor), UpdatedDatetime: W3C(u.Entry.At, s.tz),
				Description: u.Entry.Note})
		}
		if len(out.Items) > MaxUpdates {
			return Updates{}, ErrTooManyUpdates
		}
	}
	return out, nil
}

// PostUpdate stores a citizen's public update (mySociety's POST servicerequestupdates) as a note on the
// timeline of a report filed through Open311, once per update_id. The posted status is the citizen's view (FIXED, OPEN …): it is
// kept in the note's words, never applied — only the departments change a report's status.
func (s *Service) PostUpdate(ctx context.Context, c Client, form url.Values) (Updates, error) {
	// Only reports filed through Open311 take updates from clients: a citizen's report filed in the app is
	// followed there.
	id := form.Get("service_request_id")
	if !report.IsOpen311ID(id) {
		return Updates{}, ErrRequestID
	}
	upd := form.Get("update_id")
	if !validUpdateID(upd) {
		return Updates{}, ErrUpdateID
	}
	desc := strings.ReplaceAll(strings.ReplaceAll(form.Get("description"), "\r\n", "\n"), "\r", "\n")
	if !plainNote(desc) {
		return Updates{}, ErrParam.With("description must be 1-2000 characters of plain text")
	}
	r, err := s.store.GetReport(ctx, id)
	if err == report.ErrNotFound {
		return Updates{}, ErrRequestID
	}
	if err != nil {
		return Updates{}, err
	}
	entry := report.TimelineEntry{At: s.now().UTC().Truncate(time.Millisecond), Status: r.Status, Actor: "citizen", Note: desc}
	uid, err := s.store.AddNote(ctx, Note{ReportID: id, ClientID: c.ID, ClientUpdateID: upd, Entry: entry})
	if err != nil {
		return Updates{}, err
	}
	return Updates{Items: []Update{{UpdateID: uid}}}, nil
}

// plainNote accepts 1–2000 characters of valid UTF-8 without control characters but newline and tab.
func plainNote(s string) bool {
	if strings.TrimSpace(s) == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > report.MaxDescription {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' })
}

func validUpdateID(id string) bool {
	if len(id) < 1 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// CreateClient registers a client application and issues its api_key (admins only).
func (s *Service) CreateClient(ctx context.Context, p auth.Principal, n NewClient) (IssuedClient, error) {
	if err := p.Require(auth.Admin); err != nil {
		return IssuedClient{}, err
	}
	if err := n.validate(); err != nil {
		return IssuedClient{}, err
	}
	id, key := newKey()
	c := Client{ID: id, Name: strings.TrimSpace(n.Name), Trusted: n.Trusted, RequestsPerMinute: n.RequestsPerMinute,
		KeyHash: HashKey(key), CreatedAt: s.now().UTC().Truncate(time.Millisecond)}
	if c.RequestsPerMinute == 0 {
		c.RequestsPerMinute = DefaultRequestsPerMinute
	}
	if err := s.store.CreateClient(ctx, c); err != nil {
		return IssuedClient{}, err
	}
	return IssuedClient{Client: c, APIKey: key}, nil
}

// ListClients lists the clients (never their keys).
func (s *Service) ListClients(ctx context.Context, p auth.Principal) ([]Client, error) {
	if err := p.Require(auth.Admin); err != nil {
		return nil, err
	}
	list, err := s.store.Clients(ctx)
	if list == nil {
		list = []Client{}
	}
	return list, err
}

// RevokeClient revokes a client's key: its next request gets 403.
func (s *Service) RevokeClient(ctx context.Context, p auth.Principal, id string) (Client, error) {
	if err := p.Require(auth.Admin); err != nil {
		return Client{}, err
	}
	if !ValidClientID(id) {
		return Client{}, ErrClientMissing
	}
	return s.store.RevokeClient(ctx, id, s.now().UTC().Truncate(time.Millisecond))
}
