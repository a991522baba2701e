package report_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

// countingLinks presigns without a call, as the S3 presigner does, and counts what it signed.
type countingLinks struct{ signed []string }

func (c *countingLinks) PresignGet(_ context.Context, key, version string, ttl time.Duration) (string, error) {
	c.signed = append(c.signed, key+"@"+version)
	return fmt.Sprintf("https://bucket.example/%s?versionId=%s&ttl=%s", key, version, ttl), nil
}

// A report's reader (its reporter, staff, admins) gets a link to every photo and proof photo, pinned to
// the recorded version, whatever the report's status or visibility — unlike the public map, which links
// public reports only. Other citizens get nothing.
func TestViewLinksEveryPhotoForItsReaders(t *testing.T) {
	const id = "0d5b6c3e-2f2a-4e55-9d4e-6a1b6a2d9f10"
	photos := []report.Photo{
		{Key: "photos/2026-11-30/a.jpg", ContentType: "image/jpeg", VersionID: "v1"},
		{Key: "reports/" + id + "/1.jpg", ContentType: "image/png"}, // before versions were recorded
	}
	proof := []report.Photo{{Key: "photos/2026-11-30/p.jpg", ContentType: "image/jpeg", VersionID: "v9"}}
	wantPhotos := []report.MapPhoto{
		{URL: "https://bucket.example/photos/2026-11-30/a.jpg?versionId=v1&ttl=15m0s", ContentType: "image/jpeg"},
		{URL: "https://bucket.example/reports/" + id + "/1.jpg?versionId=&ttl=15m0s", ContentType: "image/png"},
	}
	wantProof := []report.MapPhoto{{URL: "https://bucket.example/photos/2026-11-30/p.jpg?versionId=v9&ttl=15m0s", ContentType: "image/jpeg"}}
	var (
		reporter = auth.Principal{Sub: "alice", Groups: []auth.Role{auth.Citizen}}
		other    = auth.Principal{Sub: "bob", Groups: []auth.Role{auth.Citizen}}
		staff    = auth.Principal{Sub: "s1", Groups: []auth.Role{auth.Staff}, Dept: "municipal"}
		admin    = auth.Principal{Sub: "a1", Groups: []auth.Role{auth.Admin}}
		clerk    = auth.Principal{Sub: "c1", Groups: []auth.Role{auth.Clerk}}
	)
	tests := []struct {
		name      string
		status    report.Status
		private   bool
		proof     []report.Photo
		who       auth.Principal
		wantErr   bool
		wantProof []report.MapPhoto
	}{
		{"resolved, staff", report.Resolved, false, proof, staff, false, wantProof},
		{"resolved, reporter", report.Resolved, false, proof, reporter, false, wantProof},
		{"rejected, staff", report.Rejected, false, nil, staff, false, nil},
		{"duplicate, admin", report.Duplicate, false, nil, admin, false, nil},
		{"private, staff", report.Dispatched, true, nil, staff, false, nil},
		{"private, reporter", report.Dispatched, true, nil, reporter, false, nil},
		{"another citizen", report.Resolved, false, proof, other, true, nil},
		{"a clerk", report.Resolved, false, proof, clerk, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := report.Report{ID: id, Status: tt.status, ReporterSub: "alice", Photos: photos, ProofPhotos: tt.proof}
			if tt.private {
				rep.Public = report.PublicFlag(new(bool))
			}
			store := &memStore{reports: map[string]report.Report{id: rep}}
			links := &countingLinks{}
			svc := report.NewService(store, nil, report.Config{Links: links}, time.Now, nil)
			v, err := svc.View(t.Context(), tt.who, id)
			if tt.wantErr {
				if err == nil || len(links.signed) != 0 {
					t.Fatalf("answered %+v, signed %v; want a refusal and nothing signed", v, links.signed)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(v.PhotoLinks) != fmt.Sprint(wantPhotos) || fmt.Sprint(v.ProofPhotoLinks) != fmt.Sprint(tt.wantProof) {
				t.Errorf("links %v / %v\nwant %v / %v", v.PhotoLinks, v.ProofPhotoLinks, wantPhotos, tt.wantProof)
			}
			if len(v.Photos) != len(photos) || (v.ReporterSub != "") != (tt.who.Sub == "alice" || tt.who.Has(auth.Admin)) {
				t.Errorf("the report itself changed: %+v", v.Report)
			}
		})
	}
}

// Without a linker (a function that has no photo bucket) View answers the report with no links.
func TestViewWithoutLinks(t *testing.T) {
	const id = "0d5b6c3e-2f2a-4e55-9d4e-6a1b6a2d9f11"
	store := &memStore{reports: map[string]report.Report{id: {ID: id, Status: report.Dispatched, ReporterSub: "alice",
		Photos: []report.Photo{{Key: "photos/2026-11-30/a.jpg", VersionID: "v1"}}}}}
	svc := report.NewService(store, nil, report.Config{}, time.Now, nil)
	v, err := svc.View(t.Context(), auth.Principal{Sub: "alice", Groups: []auth.Role{auth.Citizen}}, id)
	if err != nil || v.PhotoLinks == nil || len(v.PhotoLinks) != 0 || v.ProofPhotoLinks != nil {
		t.Errorf("%+v, %v", v, err)
	}
	if _, err := svc.View(t.Context(), auth.Principal{Sub: "bob", Groups: []auth.Role{auth.Citizen}}, id); !errors.Is(err, report.ErrNotFound) {
		t.Errorf("another citizen: %v", err)
	}
}
