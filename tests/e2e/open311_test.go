package e2e

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// The Open311 surface driven as FixMyStreet's Open311 client drives a council's server: the base URL as
// configured, every resource <name>.<format>, form-encoded writes without a charset carrying the
// api_key, the reporter's name, email and phone; GET requests without a key; mySociety's
// servicerequestupdates polled for a window in Z.

type o311Service struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Group       string `json:"group" xml:"group"`
}

type o311Request struct {
	ServiceRequestID  string   `json:"service_request_id" xml:"service_request_id"`
	Token             string   `json:"token" xml:"token"`
	Status            string   `json:"status" xml:"status"`
	StatusNotes       string   `json:"status_notes" xml:"status_notes"`
	ServiceCode       string   `json:"service_code" xml:"service_code"`
	AgencyResponsible string   `json:"agency_responsible" xml:"agency_responsible"`
	RequestedDatetime string   `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string   `json:"updated_datetime" xml:"updated_datetime"`
	ExpectedDatetime  string   `json:"expected_datetime" xml:"expected_datetime"`
	Lat               *float64 `json:"lat" xml:"lat"`
	Long              *float64 `json:"long" xml:"long"`
	MediaURL          string   `json:"media_url" xml:"media_url"`
}

type o311Update struct {
	UpdateID         string `json:"update_id" xml:"update_id"`
	ServiceRequestID string `json:"service_request_id" xml:"service_request_id"`
	Status           string `json:"status" xml:"status"`
	UpdatedDatetime  string `json:"updated_datetime" xml:"updated_datetime"`
	Description      string `json:"description" xml:"description"`
}

type o311Error struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

// o311 is a GeoReport client of one format.
type o311 struct {
	t    *testing.T
	base string // as a client is configured: ending in /
	f    string
}

// reporterSecrets is what the client posts about the reporter; no answer may carry any of it.
var reporterSecrets = []string{"Grace", "Hopper", "grace@example.org", "139 1111", "e2e-o311-citizen"}

// get fetches base+name.<fmt>?query and decodes the list under the format's root into out.
func (c o311) get(name string, query url.Values, out any) (int, http.Header) {
	c.t.Helper()
	u := c.base + name + "." + c.f
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	resp, err := http.Get(u)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, c.decode("GET "+name, resp, out)
}

// post sends a form as FixMyStreet does: x-www-form-urlencoded without a charset.
func (c o311) post(name string, form url.Values, out any) int {
	c.t.Helper()
	resp, err := http.Post(c.base+name+"."+c.f, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	c.decode("POST "+name, resp, out)
	return resp.StatusCode
}

// decode reads the body: a success into out, an error into GeoReport's error shape (checked), and checks
// it carries nothing of the reporter.
func (c o311) decode(what string, resp *http.Response, out any) http.Header {
	c.t.Helper()
	body, _ := io.ReadAll(resp.Body)
	for _, s := range reporterSecrets {
		if bytes.Contains(body, []byte(s)) {
			c.t.Errorf("%s carries the reporter's %q: %s", what, s, body)
		}
	}
	wantType := map[string]string{"json": "application/json", "xml": "text/xml"}[c.f]
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
		c.t.Errorf("%s: Content-Type %q", what, resp.Header.Get("Content-Type"))
	}
	if resp.StatusCode != 200 {
		var errs []o311Error
		c.unmarshal(what, body, &errs)
		if len(errs) != 1 || errs[0].Code != resp.StatusCode {
			c.t.Errorf("%s: %d with error body %s", what, resp.StatusCode, body)
		}
		if e, ok := out.(*[]o311Error); ok {
			*e = errs
		}
		return resp.Header
	}
	if out != nil {
		c.unmarshal(what, body, out)
	}
	return resp.Header
}

// unmarshal decodes JSON, or XML under the resource's root element with one element per item.
func (c o311) unmarshal(what string, body []byte, out any) {
	c.t.Helper()
	if c.f == "json" {
		if err := json.Unmarshal(body, out); err != nil {
			c.t.Fatalf("%s: %v: %s", what, err, body)
		}
		return
	}
	if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
		c.t.Errorf("%s: no XML declaration: %.80s", what, body)
	}
	var err error
	switch v := out.(type) {
	case *[]o311Service:
		var doc struct {
			XMLName xml.Name      `xml:"services"`
			Items   []o311Service `xml:"service"`
		}
		err = xml.Unmarshal(body, &doc)
		*v = doc.Items
	case *[]o311Request:
		var doc struct {
			XMLName xml.Name      `xml:"service_requests"`
			Items   []o311Request `xml:"request"`
		}
		err = xml.Unmarshal(body, &doc)
		*v = doc.Items
	case *[]o311Update:
		var doc struct {
			XMLName xml.Name     `xml:"service_request_updates"`
			Items   []o311Update `xml:"request_update"`
		}
		err = xml.Unmarshal(body, &doc)
		*v = doc.Items
	case *[]o311Error:
		var doc struct {
			XMLName xml.Name    `xml:"errors"`
			Items   []o311Error `xml:"error"`
		}
		err = xml.Unmarshal(body, &doc)
		*v = doc.Items
	default:
		c.t.Fatalf("no XML shape for %T", out)
	}
	if err != nil {
		c.t.Fatalf("%s: %v: %s", what, err, body)
	}
}

type issuedClient struct {
	ID     string
	APIKey string
}

func issueClient(t *testing.T, admin *client, body map[string]any) issuedClient {
	t.Helper()
	var c issuedClient
	if st := admin.call("POST", "/v1/admin/open311/clients", body, nil, &c); st != 201 || !strings.HasPrefix(c.APIKey, "o311_") {
		t.Fatalf("issue client: %d %+v", st, c)
	}
	return c
}

func TestOpen311LikeFixMyStreet(t *testing.T) {
	admin := login(t, "e2e-o311-admin", []string{"admin"}, "")
	app := issueClient(t, admin, map[string]any{"name": "FixMyStreet (e2e)", "requestsPerMinute": 200})
	photo := photoJPEG(t)
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(photo)
	}))
	defer media.Close()

	for i, f := range []string{"json", "xml"} {
		t.Run(f, func(t *testing.T) {
			c := o311{t: t, base: api + "/open311/v2/", f: f}
			start := time.Now().Add(-time.Minute).UTC()

			var services []o311Service
			if st, _ := c.get("services", url.Values{"jurisdiction_id": {"mengzi"}}, &services); st != 200 {
				t.Fatalf("services: %d", st)
			}
			k := slices.IndexFunc(services, func(s o311Service) bool { return s.ServiceCode == "street_light" })
			if k < 0 || !services[k].Metadata || services[k].Group != "市政" {
				t.Fatalf("services %+v", services)
			}
			var def map[string]any
			if f == "json" {
				resp, err := http.Get(c.base + "services/street_light.json")
				if err != nil {
					t.Fatal(err)
				}
				_ = json.NewDecoder(resp.Body).Decode(&def)
				resp.Body.Close()
				if attrs, _ := def["attributes"].([]any); len(attrs) != 2 {
					t.Errorf("definition %v", def)
				}
			} else {
				resp, err := http.Get(c.base + "services/street_light.xml")
				if err != nil {
					t.Fatal(err)
				}
				var doc struct {
					XMLName    xml.Name `xml:"service_definition"`
					Attributes []struct {
						Code     string `xml:"code"`
						Required bool   `xml:"required"`
					} `xml:"attributes>attribute"`
				}
				if err := xml.NewDecoder(resp.Body).Decode(&doc); err != nil || len(doc.Attributes) != 2 || doc.Attributes[1].Code != "fault" {
					t.Errorf("definition %+v %v", doc, err)
				}
				resp.Body.Close()
			}

			// File a report with the key, a photo by URL and the pole's attributes.
			lat, lng := 23.4517+float64(i)*0.01, 103.2611+float64(i)*0.01
			form := url.Values{"api_key": {app.APIKey}, "jurisdiction_id": {"mengzi"}, "service_code": {"street_light"},
				"lat": {fmt.Sprint(lat)}, "long": {fmt.Sprint(lng)}, "address_string": {"红河大道 8 号"},
				"description": {"路灯不亮\r\nThe lamp is out"}, "first_name": {"Grace"}, "last_name": {"Hopper"},
				"email": {"grace@example.org"}, "phone": {"+86 139 1111 2222"}, "media_url": {media.URL + "/lamp.jpg"},
				"attribute[fault]": {"dark"}, "attribute[pole_number]": {"MZ-" + f}, "attribute[fixmystreet_id]": {fmt.Sprint(9000 + i)}}
			var filed []o311Request
			if st := c.post("requests", form, &filed); st != 200 || len(filed) != 1 || filed[0].ServiceRequestID == "" {
				t.Fatalf("POST requests: %d %+v", st, filed)
			}
			id := filed[0].ServiceRequestID

			// Find it in GET requests (no key), then follow it until dispatch has routed it.
			var found []o311Request
			c.get("requests", url.Values{"start_date": {start.Format(time.RFC3339)}, "end_date": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339)},
				"service_code": {"street_light"}, "status": {"open"}}, &found)
			if !slices.ContainsFunc(found, func(r o311Request) bool { return r.ServiceRequestID == id }) {
				t.Fatalf("GET requests does not list %s: %+v", id, found)
			}
			var one []o311Request
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(150 * time.Millisecond) {
				c.get("requests/"+id, nil, &one)
				if len(one) == 1 && one[0].AgencyResponsible != "" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("never dispatched: %+v", one)
				}
			}
			r := one[0]
			if r.Status != "open" || r.AgencyResponsible != "市政" || r.ExpectedDatetime == "" || !strings.HasSuffix(r.UpdatedDatetime, "+08:00") ||
				r.Lat == nil || *r.Lat != lat || r.MediaURL == "" {
				t.Errorf("request %+v", r)
			}
			var tok []o311Request
			if c.get("tokens/"+id, nil, &tok); len(tok) != 1 || tok[0].ServiceRequestID != id {
				t.Errorf("token %+v", tok)
			}
			// The photo behind media_url is the stored, stripped one (a presigned GET, never the upload).
			if resp, err := http.Get(r.MediaURL); err != nil || resp.StatusCode != 200 {
				t.Errorf("media_url %s: %v %v", r.MediaURL, resp, err)
			} else {
				resp.Body.Close()
			}

			// The department resolves it through its signed callbacks, as any report, acting on the dispatch
			// webhook as department systems do: it is sent once the lead's assignment is written, where the
			// report reads dispatched from dispatch's commit on (accepting between the two is 409
			// assignment_pending, which failed this test under load).
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(150 * time.Millisecond) {
				if _, ok := sinkFor(t, "municipal", "msg_"+id+"_municipal_dispatched"); ok {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the municipal sink never received the dispatch of %s", id)
				}
			}
			now := time.Now()
			if st, out := signed(t, "municipal", "/v1/departments/municipal/events", "o311-accept-"+id, map[string]any{"type": "report.accepted", "reportId": id, "note": "班组已出发"}, now); st != 200 {
				t.Fatalf("accept = %d %v", st, out)
			}
			var up upload
			st, out := signed(t, "municipal", "/v1/departments/municipal/uploads", "o311-upload-"+id, map[string]any{"contentType": "image/jpeg", "size": len(photo)}, now)
			if st != 201 {
				t.Fatalf("department upload = %d %v", st, out)
			}
			b, _ := json.Marshal(out)
			_ = json.Unmarshal(b, &up)
			postForm(t, up, photo)
			if st, out := signed(t, "municipal", "/v1/departments/municipal/events", "o311-resolve-"+id, map[string]any{"type": "report.resolved", "reportId": id, "note": "已更换灯泡", "proofPhotoKeys": []string{up.Key}}, now); st != 200 {
				t.Fatalf("resolve = %d %v", st, out)
			}
			c.get("requests/"+id, nil, &one)
			if len(one) != 1 || one[0].Status != "closed" || one[0].StatusNotes != "已更换灯泡" {
				t.Errorf("after the resolution: %+v", one)
			}

			// Its updates, as FixMyStreet polls them.
			var updates []o311Update
			window := url.Values{"api_key": {app.APIKey}, "start_date": {start.Format(time.RFC3339)}, "end_date": {time.Now().Add(time.Minute).UTC().Format(time.RFC3339)}}
			if st, _ := c.get("servicerequestupdates", window, &updates); st != 200 {
				t.Fatalf("servicerequestupdates: %d", st)
			}
			var statuses []string
			for _, u := range updates {
				if u.ServiceRequestID == id {
					statuses = append(statuses, u.Status)
					if u.UpdateID == "" || !strings.HasSuffix(u.UpdatedDatetime, "+08:00") {
						t.Errorf("update %+v", u)
					}
				}
			}
			// Dispatched, accepted, resolved (the filing itself is the client's own, not an update).
			if got := strings.Join(statuses, ","); got != "open,action_scheduled,fixed" {
				t.Errorf("update statuses %s, want open,action_scheduled,fixed", got)
			}
			// A citizen's update through the client, posted twice (its answer lost), is one note.
			note := url.Values{"api_key": {app.APIKey}, "service_request_id": {id}, "update_id": {"fms-" + f}, "status": {"FIXED"},
				"updated_datetime": {time.Now().UTC().Format(time.RFC3339)}, "description": {"谢谢，修好了"},
				"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"grace@example.org"}}
			var posted, again []o311Update
			if c.post("servicerequestupdates", note, &posted) != 200 || c.post("servicerequestupdates", note, &again) != 200 ||
				len(posted) != 1 || len(again) != 1 || posted[0].UpdateID != again[0].UpdateID {
				t.Errorf("posted update %+v then %+v", posted, again)
			}
		})
	}

	t.Run("a citizen's report shows no sub", func(t *testing.T) {
		// Filed through the app by a signed-in citizen: Open311 shows it and links its photo (whose key
		// names no one), without the reporter (reporterSecrets holds the citizen's sub).
		citizen := login(t, "e2e-o311-citizen", []string{"citizen"}, "")
		id := fileReport(t, citizen, "noise", "夜间施工 night works", 23.5011, 103.5222)
		for _, f := range []string{"json", "xml"} {
			c := o311{t: t, base: api + "/open311/v2/", f: f}
			var one []o311Request
			if st, _ := c.get("requests/"+id, nil, &one); st != 200 || len(one) != 1 || one[0].MediaURL == "" {
				t.Errorf("%s: %d %+v", f, st, one)
			}
		}
	})

	t.Run("revoked key and limits", func(t *testing.T) {
		c := o311{t: t, base: api + "/open311/v2/", f: "xml"}
		old := issueClient(t, admin, map[string]any{"name": "retired app"})
		if st := admin.call("POST", "/v1/admin/open311/clients/"+old.ID+"/revoke", nil, nil, nil); st != 200 {
			t.Fatalf("revoke: %d", st)
		}
		var errs []o311Error
		form := url.Values{"api_key": {old.APIKey}, "service_code": {"street_light"}, "lat": {"23.40"}, "long": {"103.30"}, "attribute[fault]": {"dark"}}
		if st := c.post("requests", form, &errs); st != 403 || len(errs) != 1 || !strings.HasPrefix(errs[0].Description, "api_key_invalid") {
			t.Errorf("revoked key: %d %+v", st, errs)
		}
		busy := issueClient(t, admin, map[string]any{"name": "busy app", "requestsPerMinute": 1})
		if time.Now().Second() >= 58 {
			time.Sleep(3 * time.Second) // both requests in one minute window
		}
		window := url.Values{"api_key": {busy.APIKey}, "start_date": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}}
		var updates []o311Update
		if st, _ := c.get("servicerequestupdates", window, &updates); st != 200 {
			t.Fatalf("first request: %d", st)
		}
		st, h := c.get("servicerequestupdates", window, &errs)
		if st != 429 || h.Get("Retry-After") == "" {
			t.Errorf("over the limit: %d, Retry-After %q", st, h.Get("Retry-After"))
		}
		// Bad input: the spec's error shape, nothing filed.
		if st := c.post("requests", url.Values{"api_key": {app.APIKey}, "service_code": {"street_light"}, "lat": {"23.40"}, "long": {"103.30"}, "jurisdiction_id": {"kunming"}}, &errs); st != 404 || len(errs) != 1 {
			t.Errorf("another jurisdiction: %d %+v", st, errs)
		}
	})
}
