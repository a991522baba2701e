package fuzz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/infra/seed"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// tinyJPEG is the README's photo: a valid 8×8 JPEG.
const tinyJPEG = "/9j/2wCEABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2MBERISGBUYLxoaL2NCOEJjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY//AAAsIAAgACAEBEQD/xADSAAABBQEBAQEBAQAAAAAAAAAAAQIDBAUGBwgJCgsQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAAgBAQAAPwDi/wDkI/8AX7/6P/8As/8A0L/e+9//2Q=="

// The callers the fuzzer acts as.
var (
	citizenA = Caller{Sub: "fuzz-citizen", Groups: []string{"citizen"}}
	citizenB = Caller{Sub: "fuzz-citizen-2", Groups: []string{"citizen"}}
	clerk    = Caller{Sub: "fuzz-clerk", Groups: []string{"clerk"}}
	admin    = Caller{Sub: "fuzz-admin", Groups: []string{"admin"}}
	// organiser is the seed's organiser of every volunteer team (infra/seed/volunteers.json).
	organiser = Caller{Sub: "vol-organiser", Groups: []string{"citizen"}}
)

func staffOf(dept string) Caller {
	return Caller{Sub: "fuzz-staff-" + dept, Groups: []string{"staff"}, Dept: dept}
}

// fixture is what the fuzzer knows of the stack: real ids, so a mutated request is often one mutation
// away from a valid one and reaches the rules and the stores, not only the parsers.
type fixture struct {
	depts, areas, rules, items []string
	photo                      []byte

	mu           sync.Mutex
	reports      []reportRef       // filed by citizenA
	citizenKeys  []string          // citizenA's pending uploads
	staffKeys    map[string]string // department → a pending upload of its staff member
	deptKeys     map[string]string // department → a pending upload of its system (dept-<id>)
	redemptions  []redemptionRef
	cursors      []string
	configs      map[string]map[string]any // "departments/<id>", "point-rules", … → the document as read
	idemKeysUsed []string
	// Open311: an api_key to file with (a high limit), a client the revoke route may revoke, and a report
	// filed with the key (clients post updates on those).
	open311Key, open311Revocable, open311Report string
	// Volunteers: citizenA and citizenB opted in; activities of the seeded team qingsao, the first published
	// by the fixture (starting now, so check-ins are in their window), more as the fuzzer publishes them.
	activities []string
	// now is when setup ran: models date their requests from it, not from the clock, so one seed makes the
	// same requests however long a run or a test takes (TestSameSeedSameRequests).
	now time.Time
	// Builders' home (builders.go): jobs, fairs and desk slots, the fixture's first, then learned ones.
	bld builderRefs
}

type reportRef struct{ ID, Dept string }

type redemptionRef struct{ ID, Code string }

func (f *fixture) snapshotReports() []reportRef {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reportRef(nil), f.reports...)
}

// setup files reports, resolves one so citizenA has points, puts cheap catalog items of every kind,
// redeems, uploads proof photos and reads every configuration document the PUT routes replace.
func setup(ctx context.Context, c *client) (*fixture, error) {
	f := &fixture{staffKeys: map[string]string{}, deptKeys: map[string]string{}, configs: map[string]map[string]any{},
		now: time.Now().UTC().Truncate(time.Second)}
	f.photo, _ = base64.StdEncoding.DecodeString(tinyJPEG)
	ds, err := seed.Departments()
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		f.depts = append(f.depts, d.ID)
	}
	as, err := seed.Areas()
	if err != nil {
		return nil, err
	}
	for _, a := range as {
		f.areas = append(f.areas, a.ID)
	}
	rs, err := seed.Rules()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		f.rules = append(f.rules, r.ID)
	}

	for i, name := range []string{"fuzz open311 app", "fuzz open311 app to revoke"} {
		var cl struct{ ID, APIKey string }
		req := Request{Method: "POST", Path: "/v1/admin/open311/clients", As: &admin}
		if err := c.call(ctx, req, map[string]any{"name": name, "requestsPerMinute": 6000}, &cl); err != nil {
			return nil, err
		}
		if i == 0 {
			f.open311Key = cl.APIKey
		} else {
			f.open311Revocable = cl.ID
		}
	}
	form := url.Values{"api_key": {f.open311Key}, "service_code": {"noise"}, "lat": {"23.31"}, "long": {"103.31"}, "description": {"fuzz fixture"}}
	st, data, err := c.send(ctx, Request{Method: "POST", Path: "/open311/v2/requests.json",
		Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: []byte(form.Encode())})
	var filed []struct {
		ID string `json:"service_request_id"`
	}
	if err != nil || st != 200 || json.Unmarshal(data, &filed) != nil || len(filed) != 1 {
		return nil, fmt.Errorf("POST /open311/v2/requests.json: %d %s %v", st, data, err)
	}
	f.open311Report = filed[0].ID

	for _, who := range []Caller{citizenA, citizenB} {
		if err := c.call(ctx, Request{Method: "PUT", Path: "/v1/me/volunteer", As: &who},
			map[string]any{"name": "fuzz volunteer", "skills": []any{"清扫"}}, nil); err != nil {
			return nil, err
		}
	}
	var published struct{ Items []struct{ ID string } }
	start := time.Now().UTC().Add(time.Minute).Truncate(time.Minute)
	if err := c.call(ctx, Request{Method: "POST", Path: "/v1/activities", As: &organiser,
		Header: map[string]string{"Idempotency-Key": fmt.Sprintf("fuzz-fixture-%d", time.Now().UnixNano())}},
		activityBody(start), &published); err != nil || len(published.Items) != 1 {
		return nil, fmt.Errorf("publish the fixture's activity: %v", err)
	}
	f.activities = []string{published.Items[0].ID}
	if err := setupBuilders(ctx, c, f); err != nil {
		return nil, fmt.Errorf("builders' home: %w", err)
	}

	key, err := f.uploadAs(ctx, c, citizenA)
	if err != nil {
		return nil, err
	}
	f.citizenKeys = append(f.citizenKeys, key)
	for i, cat := range []string{"street_light", "rubbish", "illegal_parking", "damaged_road"} {
		var rep struct{ ID string }
		body := map[string]any{"category": cat, "description": "fuzz fixture " + cat,
			"location": map[string]any{"lat": 23.30 + 0.02*float64(i), "lng": 103.30 + 0.02*float64(i)}, "photoKeys": []string{key}}
		req := Request{Method: "POST", Path: "/v1/reports", As: &citizenA, Header: map[string]string{"Idempotency-Key": "fuzz-setup-" + cat}}
		if err := c.call(ctx, req, body, &rep); err != nil {
			return nil, err
		}
		f.reports = append(f.reports, reportRef{ID: rep.ID})
	}
	for i, r := range f.reports {
		if f.reports[i].Dept, err = waitDispatched(ctx, c, r.ID); err != nil {
			return nil, err
		}
	}
	// Resolve two reports so citizenA earns points to spend; the others stay open for transitions.
	for _, r := range f.reports[:2] {
		staff := staffOf(r.Dept)
		proof, err := f.uploadAs(ctx, c, staff)
		if err != nil {
			return nil, err
		}
		for _, body := range []map[string]any{{"to": "accepted"}, {"to": "resolved", "proofPhotoKeys": []string{proof}}} {
			req := Request{Method: "POST", Path: "/v1/dept/reports/" + r.ID + "/transitions", As: &staff}
			if err := c.call(ctx, req, body, nil); err != nil {
				return nil, err
			}
		}
	}
	if err := waitPoints(ctx, c); err != nil {
		return nil, err
	}
	for _, it := range []map[string]any{
		{"id": "fuzz-goods", "kind": "goods", "nameZh": "模糊测试商品", "cost": 1, "stock": 1_000_000, "shards": 4, "pickupLocation": "fuzz", "active": true},
		{"id": "fuzz-honor", "kind": "honor", "nameZh": "模糊测试荣誉", "cost": 1, "title": "模糊测试", "active": true},
		{"id": "fuzz-cause", "kind": "charity", "nameZh": "模糊测试捐赠", "minAmount": 1, "active": true},
		{"id": "fuzz-credit", "kind": "credit", "nameZh": "模糊测试信用", "rate": 1, "active": true},
	} {
		id := it["id"].(string)
		if err := c.call(ctx, Request{Method: "PUT", Path: "/v1/admin/catalog/" + id, As: &admin}, it, nil); err != nil {
			return nil, err
		}
	}
	cs, err := seed.Catalog()
	if err != nil {
		return nil, err
	}
	f.items = []string{"fuzz-goods", "fuzz-honor", "fuzz-cause", "fuzz-credit"}
	for _, it := range cs {
		f.items = append(f.items, it.ID)
	}
	for i := range 2 {
		var red struct{ ID, PickupCode string }
		req := Request{Method: "POST", Path: "/v1/redemptions", As: &citizenA, Header: map[string]string{"Idempotency-Key": "fuzz-setup-red-" + strconv.Itoa(i)}}
		if err := c.call(ctx, req, map[string]any{"itemId": "fuzz-goods"}, &red); err != nil {
			return nil, err
		}
		f.redemptions = append(f.redemptions, redemptionRef{ID: red.ID, Code: red.PickupCode})
	}
	for _, r := range f.reports[1:] {
		if f.staffKeys[r.Dept], err = f.uploadAs(ctx, c, staffOf(r.Dept)); err != nil {
			return nil, err
		}
		if f.deptKeys[r.Dept], err = f.deptUpload(ctx, c, r.Dept); err != nil {
			return nil, err
		}
	}
	docs := map[string]string{"point-rules": "/v1/admin/point-rules"}
	for _, d := range f.depts {
		docs["departments/"+d] = "/v1/admin/departments/" + d
	}
	for _, a := range f.areas {
		docs["areas/"+a] = "/v1/admin/areas/" + a
	}
	for _, r := range f.rules {
		docs["rules/"+r] = "/v1/admin/rules/" + r
	}
	for _, it := range f.items {
		docs["catalog/"+it] = "/v1/admin/catalog/" + it
	}
	for name, path := range docs {
		var doc map[string]any
		if err := c.call(ctx, Request{Method: "GET", Path: path, As: &admin}, nil, &doc); err != nil {
			return nil, err
		}
		f.configs[name] = doc
	}
	return f, nil
}

// clock is the time the models date requests from: setup's, or fuzzEpoch in a fixture built by a test.
func (f *fixture) clock() time.Time {
	if f.now.IsZero() {
		return fuzzEpoch
	}
	return f.now
}

// uploadAs uploads the photo as who and returns its pending key.
func (f *fixture) uploadAs(ctx context.Context, c *client, who Caller) (string, error) {
	var up upload
	req := Request{Method: "POST", Path: "/v1/uploads", As: &who}
	if err := c.call(ctx, req, map[string]any{"contentType": "image/jpeg", "size": len(f.photo)}, &up); err != nil {
		return "", err
	}
	return up.Key, c.uploadTo(ctx, up, f.photo)
}

// deptUpload uploads the photo as dept's system (a signed request) and returns its pending key.
func (f *fixture) deptUpload(ctx context.Context, c *client, dept string) (string, error) {
	var up upload
	req := Request{Method: "POST", Path: "/v1/departments/" + dept + "/uploads", SignAs: dept,
		Header: map[string]string{webhook.HeaderID: "msg_fuzz_setup_" + dept}}
	if err := c.call(ctx, req, map[string]any{"contentType": "image/jpeg", "size": len(f.photo)}, &up); err != nil {
		return "", err
	}
	return up.Key, c.uploadTo(ctx, up, f.photo)
}

// waitDispatched waits until dispatch has routed the report and returns its lead department.
func waitDispatched(ctx context.Context, c *client, id string) (string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var rep struct{ Status, LeadDept string }
		if err := c.call(ctx, Request{Method: "GET", Path: "/v1/reports/" + id, As: &citizenA}, nil, &rep); err != nil {
			return "", err
		}
		if rep.Status != "submitted" && rep.LeadDept != "" {
			return rep.LeadDept, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("report %s still %s after 60 s", id, rep.Status)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return "", err
		}
	}
}

// waitPoints waits until accrual has paid citizenA.
func waitPoints(ctx context.Context, c *client) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		var me struct{ Balance int64 }
		if err := c.call(ctx, Request{Method: "GET", Path: "/v1/me", As: &citizenA}, nil, &me); err != nil {
			return err
		}
		if me.Balance > 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no points for %s 60 s after the resolution", citizenA.Sub)
		}
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// learn keeps ids and cursors from a 2xx answer, so later requests can use them.
func (f *fixture) learn(route string, status int, data []byte) {
	if status/100 != 2 {
		return
	}
	var doc map[string]any
	if json.Unmarshal(data, &doc) != nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c, ok := doc["nextCursor"].(string); ok && c != "" && len(f.cursors) < 200 {
		f.cursors = append(f.cursors, c)
	}
	f.learnBuilders(route, doc)
	id, _ := doc["id"].(string)
	switch route {
	case "POST /v1/redemptions":
		code, _ := doc["pickupCode"].(string)
		if id != "" && code != "" && len(f.redemptions) < 200 {
			f.redemptions = append(f.redemptions, redemptionRef{ID: id, Code: code})
		}
	case "POST /v1/activities":
		if items, ok := doc["items"].([]any); ok && len(f.activities) < 200 {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					if id, _ := m["id"].(string); id != "" {
						f.activities = append(f.activities, id)
					}
				}
			}
		}
	case "POST /v1/reports":
		if id != "" && len(f.reports) < 200 {
			f.reports = append(f.reports, reportRef{ID: id})
		}
	}
}
