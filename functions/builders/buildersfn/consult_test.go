package buildersfn_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/civicsnap/civicsnap/shared/builders"
)

func (h *harness) book(sub, desk, slot, topic string) (response, error) {
	return h.call(citizen(sub), "POST /v1/desks/{id}/slots/{slotId}/bookings", "/v1/desks/"+desk+"/slots/"+slot+"/bookings",
		map[string]any{"topic": topic}, nil)
}

func (h *harness) readSlot(desk, slot string) builders.Slot {
	h.t.Helper()
	sl, err := h.e.Store.Slot(h.t.Context(), desk, slot)
	if err != nil {
		h.t.Fatal(err)
	}
	return sl
}

// A consultation: an admin sets up a medical desk; its staff publish slots (a re-sent batch writes
// nothing); ten workers book a slot of three places at once (three bookings); a cancellation frees a
// place; the staff mark a booking served (twice: one consultation record, detail medical).
func TestConsultation(t *testing.T) {
	h, _ := newFairHarness(t)
	subs := []string{"w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10"}
	h.workers(subs...)
	doc := citizen("doc1")
	// A citizen setting up a desk, and a desk of no kind.
	h.refused(403, "forbidden", citizen("w0"), "PUT /v1/admin/desks/{id}", "/v1/admin/desks/med1", map[string]any{"name": "x", "kind": "medical"}, nil)
	h.refused(400, "invalid_builders_request", admin, "PUT /v1/admin/desks/{id}", "/v1/admin/desks/med1", map[string]any{"name": "x", "kind": "dental"}, nil)
	deskBody := map[string]any{"name": "蒙自市人民医院义诊台", "kind": "medical", "address": "蒙自市银河路", "staff": []string{"doc1"}}
	var d builders.Desk
	for range 2 {
		h.must(200, admin, "PUT /v1/admin/desks/{id}", "/v1/admin/desks/med1", deskBody, nil).decode(t, &d)
	}
	var desks struct{ Items []builders.Desk }
	h.must(200, citizen("w0"), "GET /v1/desks", "/v1/desks", nil, nil).decode(t, &desks)
	if len(desks.Items) != 1 || desks.Items[0].Kind != builders.DeskMedical {
		t.Fatalf("desks: %+v", desks.Items)
	}

	start := time.Now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	slots := map[string]any{"slots": []map[string]any{
		{"start": start, "end": start.Add(30 * time.Minute), "capacity": 3},
		{"start": start.Add(30 * time.Minute), "end": start.Add(time.Hour), "capacity": 3},
	}}
	before := h.dump()
	for _, bad := range []map[string]any{
		{"slots": []map[string]any{}},
		{"slots": []map[string]any{{"start": start, "end": start, "capacity": 3}}},
		{"slots": []map[string]any{{"start": start, "end": start.Add(time.Hour), "capacity": 21}}},
		{"slots": []map[string]any{{"start": start.Add(-48 * time.Hour), "end": start.Add(-47 * time.Hour), "capacity": 1}}},
		{"slots": []map[string]any{{"start": start, "end": start.Add(time.Hour), "capacity": 1}, {"start": start, "end": start.Add(time.Hour), "capacity": 1}}},
	} {
		if r, _ := h.call(doc, "POST /v1/desks/{id}/slots", "/v1/desks/med1/slots", bad, nil); r.code() != "invalid_builders_request" {
			t.Errorf("%v: %s", bad, r)
		}
	}
	if r, _ := h.call(citizen("w0"), "POST /v1/desks/{id}/slots", "/v1/desks/med1/slots", slots, nil); r.code() != "not_staff" {
		t.Errorf("a worker publishing slots: %s", r)
	}
	if after := h.dump(); !slices.Equal(before, after) {
		t.Fatal("refused slots changed the table")
	}
	var got struct{ Items []builders.Slot }
	h.must(201, doc, "POST /v1/desks/{id}/slots", "/v1/desks/med1/slots", slots, nil).decode(t, &got)
	if len(got.Items) != 2 {
		t.Fatalf("slots: %+v", got.Items)
	}
	after := h.dump()
	h.must(201, doc, "POST /v1/desks/{id}/slots", "/v1/desks/med1/slots", slots, nil) // re-sent
	if again := h.dump(); !slices.Equal(after, again) {
		t.Fatal("a re-sent batch of slots changed the table")
	}
	slot := got.Items[0].ID
	var listed struct{ Items []builders.Slot }
	h.must(200, citizen("w0"), "GET /v1/desks/{id}/slots", "/v1/desks/med1/slots", nil, nil).decode(t, &listed)
	if len(listed.Items) != 2 || listed.Items[0].ID != slot {
		t.Errorf("the desk's slots: %+v", listed.Items)
	}

	// Ten workers book three places at once.
	rs := storm(t, 10, func(i int) (response, error) { return h.book(subs[i], "med1", slot, "腰痛") })
	if got := tally(rs); got["201"] != 3 || got["409 slot_full"] != 7 {
		t.Fatalf("10 bookings of 3 places: %v", got)
	}
	if sl := h.readSlot("med1", slot); sl.Booked != 3 {
		t.Fatalf("booked %d", sl.Booked)
	}
	if n := h.count(`"type":"booking"`); n != 3 {
		t.Fatalf("%d booking items", n)
	}
	var booked []string
	for i, r := range rs {
		if r.Status == 201 {
			booked = append(booked, subs[i])
		}
	}
	h.must(200, citizen(booked[0]), "POST /v1/desks/{id}/slots/{slotId}/bookings", "/v1/desks/med1/slots/"+slot+"/bookings", map[string]any{"topic": "腰痛"}, nil)
	if r, _ := h.book("nobody", "med1", slot, ""); r.code() != "not_a_worker" {
		t.Errorf("a citizen without a worker profile: %s", r)
	}

	// A cancellation (re-sent) frees one place.
	for range 2 {
		h.must(200, citizen(booked[2]), "DELETE /v1/desks/{id}/slots/{slotId}/bookings/me", "/v1/desks/med1/slots/"+slot+"/bookings/me", nil, nil)
	}
	if sl := h.readSlot("med1", slot); sl.Booked != 2 {
		t.Fatalf("booked %d after a cancellation", sl.Booked)
	}
	h.must(201, citizen("w10"), "POST /v1/desks/{id}/slots/{slotId}/bookings", "/v1/desks/med1/slots/"+slot+"/bookings", map[string]any{}, nil)

	// Served: the staff only; once.
	served := "/v1/desks/med1/slots/" + slot + "/bookings/" + booked[0] + "/served"
	if r, _ := h.call(citizen(booked[1]), "POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", served, nil, nil); r.code() != "not_staff" {
		t.Errorf("a worker marking served: %s", r)
	}
	rs = storm(t, 10, func(int) (response, error) {
		return h.call(doc, "POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", served, nil, nil)
	})
	if got := tally(rs); got["200"] != 10 {
		t.Fatalf("10 identical served: %v", got)
	}
	if n := h.count(`"pk":"BLDREC#consultation#med1#`+slot+`#`+booked[0]+`"`, `"detail":"medical"`); n != 1 {
		t.Errorf("%d consultation records", n)
	}
	if r, _ := h.call(doc, "POST /v1/desks/{id}/slots/{slotId}/bookings/{sub}/served", "/v1/desks/med1/slots/"+slot+"/bookings/"+booked[2]+"/served", nil, nil); r.code() != "booking_cancelled" {
		t.Errorf("serving a cancelled booking: %s", r)
	}
	if r, _ := h.call(citizen(booked[0]), "DELETE /v1/desks/{id}/slots/{slotId}/bookings/me", "/v1/desks/med1/slots/"+slot+"/bookings/me", nil, nil); r.code() != "booking_served" {
		t.Errorf("cancelling a served booking: %s", r)
	}
	var bs struct{ Items []builders.Booking }
	h.must(200, doc, "GET /v1/desks/{id}/slots/{slotId}/bookings", "/v1/desks/med1/slots/"+slot+"/bookings", nil, nil).decode(t, &bs)
	if len(bs.Items) != 4 {
		t.Errorf("the slot's bookings: %+v", bs.Items)
	}
	var mine struct{ Items []builders.Booking }
	h.must(200, citizen(booked[0]), "GET /v1/me/bookings", "/v1/me/bookings", nil, nil).decode(t, &mine)
	if len(mine.Items) != 1 || mine.Items[0].Status != builders.BookingServed || mine.Items[0].Kind != builders.DeskMedical {
		t.Errorf("my bookings: %+v", mine.Items)
	}
	_ = fmt.Sprint()
}
