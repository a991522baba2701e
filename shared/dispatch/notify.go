package dispatch

import (
	"context"
	"encoding/json"
	"time"

	"github.com/civicsnap/civicsnap/shared/report"
)

// Notification is one outbound webhook to one department. ID is the Standard Webhooks webhook-id: stable
// across retries, so receivers can drop duplicates.
type Notification struct {
	ID       string          `json:"id"`
	Dept     string          `json:"dept"`
	Type     string          `json:"type"`
	ReportID string          `json:"reportId"`
	Payload  json.RawMessage `json:"payload"`
}

// Outbox queues notifications for delivery.
type Outbox interface {
	Enqueue(ctx context.Context, ns []Notification) error
}

// ReportView is the report as a department sees it: never the reporter unless the department is granted it.
type ReportView struct {
	ID          string                 `json:"id"`
	Status      report.Status          `json:"status"`
	Category    string                 `json:"category"`
	Description string                 `json:"description"`
	Location    report.Location        `json:"location"`
	Address     string                 `json:"address,omitempty"`
	Photos      []report.Photo         `json:"photos"`
	CreatedAt   time.Time              `json:"createdAt"`
	Reporter    string                 `json:"reporter,omitempty"`
	Timeline    []report.TimelineEntry `json:"timeline,omitempty"`
}

// ViewFor returns r as dept may see it.
func ViewFor(r report.Report, dept Department) ReportView {
	v := ReportView{ID: r.ID, Status: r.Status, Category: r.Category, Description: r.Description,
		Location: r.Location, Address: r.Address, Photos: r.Photos, CreatedAt: r.CreatedAt, Timeline: r.Timeline}
	if dept.SeesReporterContact && !r.Anonymous {
		v.Reporter = r.ReporterSub
	}
	return v
}

type envelope struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      any       `json:"data"`
}

type assignmentData struct {
	Report      ReportView  `json:"report"`
	Role        report.Role `json:"role"`
	SLADeadline time.Time   `json:"slaDeadline"`
	Reason      string      `json:"reason,omitempty"`
}

// AssignmentNotice builds the notification telling a department about its assignment. kind is the event
// ("dispatched", "escalated"); seq distinguishes repeated events of one kind (a re-dispatch).
func AssignmentNotice(kind, seq string, r report.Report, a report.Assignment, dept Department, reason string, at time.Time) Notification {
	typ := "report." + kind
	payload, _ := json.Marshal(envelope{Type: typ, Timestamp: at.UTC(), Data: assignmentData{
		Report: ViewFor(r, dept), Role: a.Role, SLADeadline: a.SLADeadline, Reason: reason,
	}})
	id := "msg_" + r.ID + "_" + dept.ID + "_" + kind
	if seq != "" {
		id += "_" + seq
	}
	return Notification{ID: id, Dept: dept.ID, Type: typ, ReportID: r.ID, Payload: payload}
}
