// Package kpifn builds the KPI roll-up function, fired by EventBridge Scheduler: hourly for today, shortly
// after local midnight for yesterday's final figures; {"from","to"} recomputes a range (backfill).
package kpifn

import (
	"context"
	"encoding/json"
	"time"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/kpi"
)

// Function is the built roll-up function.
type Function struct {
	svc *kpi.Service
	b   *platform.Base
}

// New builds the function (TABLE_NAME, CITY_TZ).
func New(b *platform.Base) (*Function, error) {
	svc, err := b.KPI()
	if err != nil {
		return nil, err
	}
	return &Function{svc: svc, b: b}, nil
}

// FromEnv builds the function as Lambda runs it.
func FromEnv(ctx context.Context, env func(string) string) (*Function, error) {
	b, err := platform.FromEnv(ctx, env, "kpi")
	if err != nil {
		return nil, err
	}
	return New(b)
}

// Input is the schedule's payload.
type Input struct {
	Day  string `json:"day,omitempty"` // "today" (default), "yesterday" or a date
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Remerge with from and to rebuilds that range's month and year roll-ups and the totals from the
	// stored days, without recomputing them (state saved before the roll-ups existed).
	Remerge bool `json:"remerge,omitempty"`
}

// Handle rolls up the requested day or range (with its months, years and the running totals). An error
// makes the scheduler retry. It reads no open backlog: the dashboard reads the open-reports map from the
// queues itself.
func (f *Function) Handle(ctx context.Context, payload json.RawMessage) error {
	var in Input
	_ = json.Unmarshal(payload, &in) // an EventBridge "Scheduled Event" has none of these fields: today
	if in.Remerge {
		if err := f.svc.Remerge(ctx, in.From, in.To); err != nil {
			return err
		}
		f.b.Log.InfoContext(ctx, "kpi remerged", "from", in.From, "to", in.To)
		return nil
	}
	if in.From != "" || in.To != "" {
		n, err := f.svc.RollUpRange(ctx, in.From, in.To)
		if err != nil {
			return err
		}
		f.b.Log.InfoContext(ctx, "kpi backfill", "from", in.From, "to", in.To, "days", n)
	} else {
		day := in.Day
		switch day {
		case "", "today":
			day = f.svc.Today()
		case "yesterday":
			day = f.b.Now().In(f.b.TZ).AddDate(0, 0, -1).Format(time.DateOnly)
		}
		_, stats, err := f.svc.RollUp(ctx, day)
		if err != nil {
			return err
		}
		f.b.Log.InfoContext(ctx, "kpi rolled up", "day", day, "queries", stats.Queries, "items", stats.Items)
	}
	return nil
}
