package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/report"
)

// PublicMap adds the public map (no sign-in) and a citizen's "me too" to rt.
func PublicMap(rt *Router, svc *report.PublicService, now func() time.Time, log *slog.Logger) {
	h := &public{svc: svc, now: now, log: log}
	rt.HandleFunc("GET /v1/public/reports", h.reports)
	rt.HandleFunc("POST /v1/reports/{id}/metoo", h.meToo)
}

type public struct {
	svc *report.PublicService
	now func() time.Time
	log *slog.Logger
}

// reports answers a page of the public map. Bad input is refused before anything is written; then the
// client address's request is counted (429 with Retry-After over its allowance). The page is cacheable
// for report.PublicMaxAge; its ETag covers the page without its photo links (which are signed anew on
// every request) and the report.PublicETagWindow it was made in, so a 304 is only ever answered while the
// cached page's links still have most of their hour.
func (h *public) reports(w http.ResponseWriter, r *http.Request) {
	q, err := report.ParseMapQuery(r.URL.Query().Get)
	if err == nil {
		err = q.Check()
	}
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	wait, err := h.svc.Limit(r.Context(), clientAddress(r), RequestID(r))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		var body errorBody
		body.Error.Code, body.Error.Message, body.Error.RequestID = "rate_limited", "too many requests from this address: try again after Retry-After", RequestID(r)
		WriteJSON(w, http.StatusTooManyRequests, body)
		return
	}
	page, err := h.svc.Map(r.Context(), q)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	etag := pageTag(page, h.now())
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(report.PublicMaxAge/time.Second)))
	w.Header().Set("ETag", etag)
	w.Header().Set("Vary", "Accept-Encoding")
	if matchesTag(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	WriteJSON(w, http.StatusOK, page)
}

// pageTag is a weak ETag of what page shows, its links aside, within the window now falls in.
func pageTag(page report.MapPage, now time.Time) string {
	shown := make([]report.PublicReport, len(page.Items))
	for i, it := range page.Items {
		shown[i] = it
		shown[i].Photos, shown[i].ProofPhotos = nil, nil
		for _, p := range it.Photos {
			shown[i].Photos = append(shown[i].Photos, report.MapPhoto{ContentType: p.ContentType})
		}
		for _, p := range it.ProofPhotos {
			shown[i].ProofPhotos = append(shown[i].ProofPhotos, report.MapPhoto{ContentType: p.ContentType})
		}
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode([]any{shown, page.NextCursor, now.UTC().Truncate(report.PublicETagWindow).Unix()})
	sum := sha256.Sum256(buf.Bytes())
	return `W/"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// matchesTag reports whether an If-None-Match header names etag (weak comparison).
func matchesTag(header, etag string) bool {
	want := etag[len(`W/`):]
	for _, tag := range bytes.Split([]byte(header), []byte(",")) {
		t := string(bytes.TrimPrefix(bytes.TrimSpace(tag), []byte("W/")))
		if t == want || t == "*" {
			return true
		}
	}
	return false
}

// clientAddress is the caller's address as API Gateway saw it (the event's sourceIp).
func clientAddress(r *http.Request) string { return r.RemoteAddr }

func (h *public) meToo(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	if p.Sub == "" {
		WriteError(w, r, h.log, auth.ErrUnauthenticated)
		return
	}
	res, err := h.svc.MeToo(r.Context(), p, r.PathValue("id"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, res)
}
