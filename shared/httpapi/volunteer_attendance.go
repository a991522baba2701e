package httpapi

import (
	"bytes"
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// maxExportBytes bounds the CSV export's body: a Lambda function's synchronous response is at most 6 MB
// (the adapter buffers the whole body anyway), so a larger range is refused rather than cut short.
const maxExportBytes = 5 << 20

// ErrExportTooLarge: the export's range holds more records than one response carries.
var ErrExportTooLarge = apperr.New(apperr.TooLarge, "export_too_large", "the range holds more service records than one download carries (5 MB): ask for fewer days")

// attendanceRoutes adds the attendance routes to mux.
func attendanceRoutes(mux *Router, att *volunteer.AttendanceService, log *slog.Logger) {
	h := &attendanceAPI{att: att, log: log}
	mux.HandleFunc("GET /v1/activities/{id}/code", h.code)
	mux.HandleFunc("POST /v1/activities/{id}/checkin", h.checkIn)
	mux.HandleFunc("POST /v1/activities/{id}/checkout", h.checkOut)
	mux.HandleFunc("PUT /v1/activities/{id}/attendance/{sub}", h.mark)
	mux.HandleFunc("GET /v1/activities/{id}/attendance", h.list)
	mux.HandleFunc("POST /v1/activities/{id}/attendance/{sub}/confirm", h.confirm)
	mux.HandleFunc("POST /v1/activities/{id}/attendance/me/dispute", h.dispute)
	mux.HandleFunc("POST /v1/activities/{id}/attendance/{sub}/revoke", h.revoke)
	mux.HandleFunc("GET /v1/admin/volunteer-records", h.export)
}

type attendanceAPI struct {
	att *volunteer.AttendanceService
	log *slog.Logger
}

func (h *attendanceAPI) answer(w http.ResponseWriter, r *http.Request, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, http.StatusOK, v)
}

func (h *attendanceAPI) code(w http.ResponseWriter, r *http.Request) {
	c, err := h.att.Code(r.Context(), Principal(r), r.PathValue("id"))
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.answer(w, r, c, err)
}

func (h *attendanceAPI) checkIn(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.Punch](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.CheckIn(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, a, err)
}

func (h *attendanceAPI) checkOut(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.Punch](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.CheckOut(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, a, err)
}

func (h *attendanceAPI) mark(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.Marking](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.Mark(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"), in)
	h.answer(w, r, a, err)
}

func (h *attendanceAPI) list(w http.ResponseWriter, r *http.Request) {
	items, err := h.att.List(r.Context(), Principal(r), r.PathValue("id"))
	if items == nil {
		items = []volunteer.Attendance{}
	}
	h.answer(w, r, map[string]any{"items": items}, err)
}

func (h *attendanceAPI) confirm(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.Confirmation](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.Confirm(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"), in)
	h.answer(w, r, a, err)
}

func (h *attendanceAPI) dispute(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.DisputeRequest](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.Dispute(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, a, err)
}

func (h *attendanceAPI) revoke(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[volunteer.Revocation](w, r, h.log)
	if !ok {
		return
	}
	a, err := h.att.Revoke(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"), in)
	h.answer(w, r, a, err)
}

// export answers the service records of ?from=&to= (local days) as CSV. The records are read day by day
// and written as they come into a buffer bounded by maxExportBytes: the status is decided once the whole
// range is read, so a failure part way is an error answer, never a 200 with a cut-short file.
func (h *attendanceAPI) export(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	out, err := volunteer.NewRecordCSV(&buf)
	if err == nil {
		q := r.URL.Query()
		err = h.att.Export(r.Context(), Principal(r), q.Get("from"), q.Get("to"), func(rec volunteer.Record) error {
			if err := out.Write(rec); err != nil {
				return err
			}
			if buf.Len() > maxExportBytes {
				return ErrExportTooLarge
			}
			return nil
		})
	}
	if err == nil {
		err = out.Flush()
	}
	if err == nil && buf.Len() > maxExportBytes {
		err = ErrExportTooLarge
	}
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="volunteer-records-`+r.URL.Query().Get("from")+"-"+r.URL.Query().Get("to")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}
