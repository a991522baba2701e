package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/report"
	"github.com/civicsnap/civicsnap/shared/webhook"
)

// Departments serves department systems (signed webhooks) and department staff (JWT).
func Departments(cw *casework.Service, reports *report.Service, log *slog.Logger) *Router {
	h := &departments{cw: cw, reports: reports, log: log}
	mux := newRouter(log)
	mux.HandleFunc("POST /v1/departments/{dept}/events", h.inbound)
	mux.HandleFunc("POST /v1/departments/{dept}/uploads", h.inboundUpload)
	mux.HandleFunc("GET /v1/dept/reports", h.queue)
	mux.HandleFunc("POST /v1/dept/reports/{id}/transitions", h.transition)
	return mux
}

type departments struct {
	cw      *casework.Service
	reports *report.Service
	log     *slog.Logger
}

// inboundEvent is a department system's callback.
type inboundEvent struct {
	Type           string   `json:"type"`
	ReportID       string   `json:"reportId"`
	Note           string   `json:"note,omitempty"`
	ProofPhotoKeys []string `json:"proofPhotoKeys,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	ToDept         string   `json:"toDept,omitempty"`
	Assists        []string `json:"assists,omitempty"`
}

// verified reads the raw body and checks its signature before anything parses it.
func (h *departments) verified(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := ReadBody(r)
	if err != nil {
		WriteError(w, r, h.log, err)
		return nil, false
	}
	if err := h.cw.VerifyInbound(r.Context(), r.PathValue("dept"), body, r.Header); err != nil {
		WriteError(w, r, h.log, err)
		return nil, false
	}
	return body, true
}

func (h *departments) inbound(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r)
	if !ok {
		return
	}
	var ev inboundEvent
	if err := DecodeJSON(body, &ev); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	err := fieldID.Check("reportId", ev.ReportID)
	if err == nil {
		err = checkLists(ev.ProofPhotoKeys, ev.Assists)
	}
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	action, found := strings.CutPrefix(ev.Type, "report.")
	if !found {
		WriteError(w, r, h.log, report.ErrUnknownAction)
		return
	}
	dept := r.PathValue("dept")
	res, err := h.cw.Apply(r.Context(), casework.Request{
		Dept: dept, ReportID: ev.ReportID, PhotoOwner: "dept-" + dept, InboundID: r.Header.Get(webhook.HeaderID),
		Change: report.Change{Action: report.Action(action), Note: ev.Note, ProofPhotoKeys: ev.ProofPhotoKeys,
			Reason: ev.Reason, ToDept: ev.ToDept, Assists: ev.Assists},
	})
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	status := "applied"
	if res.Replayed {
		status = "duplicate"
	}
	WriteJSON(w, http.StatusOK, map[string]any{"status": status, "reportStatus": res.Report.Status})
}

func (h *departments) inboundUpload(w http.ResponseWriter, r *http.Request) {
	body, ok := h.verified(w, r)
	if !ok {
		return
	}
	var req uploadRequest
	if err := DecodeJSON(body, &req); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	up, err := h.reports.CreateUploadFor(r.Context(), "dept-"+r.PathValue("dept"), req.ContentType, req.Size)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusCreated, up)
}

// staff returns the caller's department; only staff with custom:dept may use the staff API.
func staff(p auth.Principal) (string, error) {
	if err := p.Require(auth.Staff); err != nil {
		return "", err
	}
	if p.Dept == "" {
		return "", auth.ErrForbidden.With("your account has no department (custom:dept)")
	}
	return p.Dept, nil
}

func (h *departments) queue(w http.ResponseWriter, r *http.Request) {
	dept, err := staff(Principal(r))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	q := r.URL.Query()
	limit, ok := limitParam(w, r, h.log, 20)
	if !ok {
		return
	}
	status := q.Get("status")
	if status == "" {
		status = string(report.Dispatched)
	}
	items, next, err := h.cw.Queue(r.Context(), dept, report.Status(status), limit, q.Get("cursor"))
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	if items == nil {
		items = []casework.QueueItem{}
	}
	WriteJSON(w, http.StatusOK, map[string]any{"items": items, "nextCursor": next})
}

type transitionRequest struct {
	To             string   `json:"to"`
	Note           string   `json:"note,omitempty"`
	ProofPhotoKeys []string `json:"proofPhotoKeys,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	ToDept         string   `json:"toDept,omitempty"`
	Assists        []string `json:"assists,omitempty"`
}

// actionFor maps the staff API's target status to the department action.
var actionFor = map[string]report.Action{
	"accepted": report.Accept, "in_progress": report.Progress, "resolved": report.Resolve,
	"rejected": report.Reject, "dispatched": report.Reassign,
}

func (h *departments) transition(w http.ResponseWriter, r *http.Request) {
	p := Principal(r)
	dept, err := staff(p)
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	req, _, ok := readJSON[transitionRequest](w, r, h.log)
	if !ok {
		return
	}
	if err := checkLists(req.ProofPhotoKeys, req.Assists); err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	action, ok := actionFor[req.To]
	if !ok {
		WriteError(w, r, h.log, report.ErrUnknownAction.With("to must be accepted, in_progress, resolved, rejected or dispatched"))
		return
	}
	res, err := h.cw.Apply(r.Context(), casework.Request{
		Dept: dept, ReportID: r.PathValue("id"), PhotoOwner: p.Sub, ActorIsUser: true,
		Change: report.Change{Action: action, Note: req.Note, ProofPhotoKeys: req.ProofPhotoKeys, Reason: req.Reason,
			ToDept: req.ToDept, Assists: req.Assists},
	})
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, res.Report.For(p))
}

// maxAssists bounds the assisting departments of one reassignment.
const maxAssists = 10

// checkLists bounds a change's lists: the proof photos become part of the report item (as many as a report
// may have), and each assisting department an assignment.
func checkLists(proofPhotoKeys, assists []string) error {
	if len(proofPhotoKeys) > report.MaxPhotos {
		return ErrField.With("proofPhotoKeys holds at most %d photos", report.MaxPhotos)
	}
	if len(assists) > maxAssists {
		return ErrField.With("assists holds at most %d departments", maxAssists)
	}
	return nil
}
