package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// fairRoutes adds the job fairs', transfers' and consultations' routes (README "Builders' home").
func fairRoutes(mux *Router, svc *builders.FairService, log *slog.Logger) {
	h := &fairAPI{svc: svc, log: log}
	mux.HandleFunc("POST /v1/admin/fairs", h.publish)
	mux.HandleFunc("GET /v1/fairs", h.list)
	mux.HandleFunc("GET /v1/fairs/{id}", h.get)
	mux.HandleFunc("POST /v1/fairs/{id}/registrations", h.register)
	mux.HandleFunc("DELETE /v1/fairs/{id}/registrations/me", h.unregister)
	mux.HandleFunc("GET /v1/fairs/{id}/code", h.code)
	mux.HandleFunc("POST /v1/fairs/{id}/checkin", h.checkIn)
	mux.HandleFunc("POST /v1/fairs/{id}/registrations/{sub}/checkin", h.staffCheckIn)
	mux.HandleFunc("GET /v1/fairs/{id}/registrations", h.registrations)
	mux.HandleFunc("GET /v1/me/fairs", h.myFairs)
	mux.HandleFunc("POST /v1/admin/transfers", h.transfer)
	mux.HandleFunc("GET /v1/admin/transfers", h.transfers)
	mux.HandleFunc("PUT /v1/admin/desks/{id}", h.putDesk)
	mux.HandleFunc("GET /v1/desks", h.desks)
	mux.HandleFunc("POST /v1/desks/{id}/slots", h.publishSlots)
	mux.HandleFunc("GET /v1/desks/{id}/slots", h.slots)
	mux.HandleFunc("POST /v1/desks/{id}/slots/{slotId}/bookings", h.book)
	mux.HandleFunc("DELETE /v1/desks/{id}/slots/{slotId}/bookings/me", h.cancelBooking)
	mux.HandleFunc("GET /v1/desks/{id}/slots/{slotId}/bookings", h.bookings)
	mux.HandleFunc("POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", h.served)
	mux.HandleFunc("GET /v1/me/bookings", h.myBookings)
}

type fairAPI struct {
	svc *builders.FairService
	log *slog.Logger
}

func (h *fairAPI) answer(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		WriteError(w, r, h.log, err)
		return
	}
	WriteJSON(w, status, v)
}

func fairItems[T any](xs []T) map[string]any {
	if xs == nil {
		xs = []T{}
	}
	return map[string]any{"items": xs}
}

func (h *fairAPI) publish(w http.ResponseWriter, r *http.Request) {
	in, body, ok := readJSON[builders.FairInput](w, r, h.log)
	if !ok {
		return
	}
	f, c, err := h.svc.PublishFair(r.Context(), Principal(r), r.Header.Get("Idempotency-Key"), body, in)
	h.answer(w, r, createdStatus(c), f, err)
}

func (h *fairAPI) list(w http.ResponseWriter, r *http.Request) {
	fs, err := h.svc.Fairs(r.Context(), Principal(r), r.URL.Query().Get("from"))
	h.answer(w, r, http.StatusOK, fairItems(fs), err)
}

func (h *fairAPI) get(w http.ResponseWriter, r *http.Request) {
	f, err := h.svc.Fair(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, f, err)
}

func (h *fairAPI) register(w http.ResponseWriter, r *http.Request) {
	reg, c, err := h.svc.Register(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, createdStatus(c), reg, err)
}

func (h *fairAPI) unregister(w http.ResponseWriter, r *http.Request) {
	reg, err := h.svc.CancelRegistration(r.Context(), Principal(r), r.PathValue("id"))
	h.answer(w, r, http.StatusOK, reg, err)
}

func (h *fairAPI) code(w http.ResponseWriter, r *http.Request) {
	c, err := h.svc.Code(r.Context(), Principal(r), r.PathValue("id"))
	if err == nil {
		w.Header().Set("Cache-Control", "no-store")
	}
	h.answer(w, r, http.StatusOK, c, err)
}

func (h *fairAPI) checkIn(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.FairPunch](w, r, h.log)
	if !ok {
		return
	}
	reg, err := h.svc.CheckIn(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, http.StatusOK, reg, err)
}

func (h *fairAPI) staffCheckIn(w http.ResponseWriter, r *http.Request) {
	reg, err := h.svc.StaffCheckIn(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("sub"))
	h.answer(w, r, http.StatusOK, reg, err)
}

func (h *fairAPI) registrations(w http.ResponseWriter, r *http.Request) {
	regs, next, err := h.svc.Registrations(r.Context(), Principal(r), r.PathValue("id"), r.URL.Query().Get("cursor"))
	if regs == nil {
		regs = []builders.Registration{}
	}
	h.answer(w, r, http.StatusOK, map[string]any{"items": regs, "cursor": next}, err)
}

func (h *fairAPI) myFairs(w http.ResponseWriter, r *http.Request) {
	regs, err := h.svc.MyFairs(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, fairItems(regs), err)
}

func (h *fairAPI) transfer(w http.ResponseWriter, r *http.Request) {
	in, body, ok := readJSON[builders.TransferInput](w, r, h.log)
	if !ok {
		return
	}
	t, c, err := h.svc.RecordTransfer(r.Context(), Principal(r), r.Header.Get("Idempotency-Key"), body, in)
	h.answer(w, r, createdStatus(c), t, err)
}

func (h *fairAPI) transfers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, err := h.svc.Transfers(r.Context(), Principal(r), q.Get("from"), q.Get("to"))
	h.answer(w, r, http.StatusOK, fairItems(ts), err)
}

func (h *fairAPI) putDesk(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.DeskInput](w, r, h.log)
	if !ok {
		return
	}
	d, err := h.svc.PutDesk(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, http.StatusOK, d, err)
}

func (h *fairAPI) desks(w http.ResponseWriter, r *http.Request) {
	ds, err := h.svc.Desks(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, fairItems(ds), err)
}

func (h *fairAPI) publishSlots(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.SlotsInput](w, r, h.log)
	if !ok {
		return
	}
	sls, err := h.svc.PublishSlots(r.Context(), Principal(r), r.PathValue("id"), in)
	h.answer(w, r, http.StatusCreated, fairItems(sls), err)
}

func (h *fairAPI) slots(w http.ResponseWriter, r *http.Request) {
	sls, err := h.svc.Slots(r.Context(), Principal(r), r.PathValue("id"), r.URL.Query().Get("from"))
	h.answer(w, r, http.StatusOK, fairItems(sls), err)
}

func (h *fairAPI) book(w http.ResponseWriter, r *http.Request) {
	in, _, ok := readJSON[builders.BookingInput](w, r, h.log)
	if !ok {
		return
	}
	b, c, err := h.svc.Book(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("slotId"), in)
	h.answer(w, r, createdStatus(c), b, err)
}

func (h *fairAPI) cancelBooking(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.CancelBooking(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("slotId"))
	h.answer(w, r, http.StatusOK, b, err)
}

func (h *fairAPI) bookings(w http.ResponseWriter, r *http.Request) {
	bs, err := h.svc.Bookings(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("slotId"))
	h.answer(w, r, http.StatusOK, fairItems(bs), err)
}

func (h *fairAPI) served(w http.ResponseWriter, r *http.Request) {
	b, err := h.svc.Served(r.Context(), Principal(r), r.PathValue("id"), r.PathValue("slotId"), r.PathValue("sub"))
	h.answer(w, r, http.StatusOK, b, err)
}

func (h *fairAPI) myBookings(w http.ResponseWriter, r *http.Request) {
	bs, err := h.svc.MyBookings(r.Context(), Principal(r))
	h.answer(w, r, http.StatusOK, fairItems(bs), err)
}
