package accrualfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/streamfn"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteer service records (issue 15): each confirmation or revocation of an attendance writes one
// immutable service record, whose INSERT the template's FilterCriteria pass here. The record's points are
// applied exactly once per (activity, volunteer, revision) — points.Service.OnServiceRecord — and the
// record is exported to the national volunteer service system as one signed webhook through the outbox,
// enqueued before the record's last write: a record redelivered after it was applied enqueues nothing, and
// one redelivered in between enqueues the same webhook-id, which the receiver drops.

// volunteerNames reads a volunteer's display name for the export.
type volunteerNames interface {
	Volunteer(ctx context.Context, sub string) (volunteer.Volunteer, error)
}

// isServiceRecord reports whether rec is the insertion of a service record.
func isServiceRecord(rec events.DynamoDBEventRecord) bool {
	t, ok := rec.Change.NewImage["type"]
	return rec.EventName == string(events.DynamoDBOperationTypeInsert) && ok && t.DataType() == events.DataTypeString && t.String() == "service_record"
}

// serviceRecord applies a service record's points and exports it.
func (f *Function) serviceRecord(ctx context.Context, rec events.DynamoDBEventRecord) error {
	r, err := dynamostore.ServiceRecordFromImage(streamfn.Image(rec.Change.NewImage))
	if err != nil {
		return fmt.Errorf("record %s: %w", rec.EventID, err)
	}
	out, err := f.svc.OnServiceRecord(ctx, points.ServiceRecord{ActivityID: r.ActivityID, Sub: r.Sub, Revision: r.Revision,
		Kind: r.Kind, Minutes: r.Minutes, At: r.At, PrevAt: r.PrevAt}, func(ctx context.Context) error { return f.export(ctx, r) })
	if err != nil {
		return err
	}
	log := f.log.With("activityId", r.ActivityID, "revision", r.Revision, "kind", r.Kind)
	switch {
	case out.Done:
		log.InfoContext(ctx, "service record already applied")
	case out.Award != nil:
		log.InfoContext(ctx, "volunteer points awarded", "points", out.Award.Granted, "minutes", out.Award.Minutes, "previousReversed", out.Reversed)
	default:
		log.InfoContext(ctx, "volunteer points reversed", "previousReversed", out.Reversed)
	}
	return nil
}

// export enqueues the record's webhook to the national volunteer service system, with the volunteer's
// name when the volunteer has a profile.
func (f *Function) export(ctx context.Context, r volunteer.Record) error {
	name := ""
	v, err := f.volunteers.Volunteer(ctx, r.Sub)
	switch {
	case err == nil:
		name = v.Name
	case !errors.Is(err, volunteer.ErrNotVolunteer):
		return err
	}
	n := ExportNotice(r, name, f.now())
	if err := f.outbox.Outbox.Enqueue(ctx, []dispatch.Notification{n}); err != nil {
		return err
	}
	f.log.InfoContext(ctx, "service record exported", "activityId", r.ActivityID, "revision", r.Revision, "webhookId", n.ID)
	return nil
}

// ExportType is the export webhook's event type.
const ExportType = "volunteer.service_record"

// ExportNotice is the signed webhook of one service record to the national volunteer service system
// (points.VolunteerRegistry). Its id names the record — (activity, volunteer, revision) — so every
// enqueue of one record carries the same webhook-id and the receiver keeps it once.
func ExportNotice(r volunteer.Record, name string, now time.Time) dispatch.Notification {
	type person struct {
		Sub  string `json:"sub"`
		Name string `json:"name,omitempty"`
	}
	type activity struct {
		ID     string    `json:"id"`
		Title  string    `json:"title"`
		Type   string    `json:"type"`
		TeamID string    `json:"teamId"`
		Start  time.Time `json:"start"`
		End    time.Time `json:"end"`
	}
	type data struct {
		RecordID    string    `json:"recordId"`
		Volunteer   person    `json:"volunteer"`
		Activity    activity  `json:"activity"`
		Kind        string    `json:"kind"`
		Revision    int64     `json:"revision"`
		Minutes     int64     `json:"minutes"`
		Hours       float64   `json:"hours"`
		Delta       int64     `json:"deltaMinutes"`
		ConfirmedBy string    `json:"confirmedBy"`
		At          time.Time `json:"at"`
		PrevAt      time.Time `json:"prevAt,omitzero"`
	}
	id := fmt.Sprintf("%s#%s#%04d", r.ActivityID, r.Sub, r.Revision)
	payload, _ := json.Marshal(map[string]any{"type": ExportType, "timestamp": now.UTC(), "data": data{
		RecordID: id, Volunteer: person{Sub: r.Sub, Name: name},
		Activity: activity{ID: r.ActivityID, Title: r.Title, Type: r.Type, TeamID: r.TeamID, Start: r.Start.UTC(), End: r.End.UTC()},
		Kind:     r.Kind, Revision: r.Revision, Minutes: r.Minutes, Hours: float64(r.Minutes) / 60, Delta: r.Delta,
		ConfirmedBy: r.By, At: r.At.UTC(), PrevAt: r.PrevAt.UTC(),
	}})
	return dispatch.Notification{ID: fmt.Sprintf("msg_vol_%s_%s_%04d", r.ActivityID, r.Sub, r.Revision), Dept: points.VolunteerRegistry, Type: ExportType, Payload: payload}
}
