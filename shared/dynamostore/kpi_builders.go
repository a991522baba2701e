package dynamostore

import (
	"context"

	"github.com/civicsnap/civicsnap/shared/kpi"
)

// The builders' home KPIs of a local day (issue 16; README "KPI definitions") are that day's
// builders_record items, read through their gsi1 partition BLDREC#<local day of at> only (one Query and
// its pages, bounded by the day's events, never by history), projecting what the sums need: kind, n and
// detail (a consultation's desk kind).

// buildersRecordLine is what the roll-up reads of a builders_record.
type buildersRecordLine struct {
	Kind   string `dynamodbav:"kind"`
	N      int64  `dynamodbav:"n"`
	Detail string `dynamodbav:"detail"`
}

// BuildersDayInputs reads one local day's builders' records.
func (s *Store) BuildersDayInputs(ctx context.Context, date string, st *kpi.ReadStats) (kpi.BuildersInputs, error) {
	var in kpi.BuildersInputs
	recs, err := queryAll[buildersRecordLine](ctx, s, dayQuery(s.table, "gsi1", "BLDREC#"+date, "kind, n, detail", nil), st)
	if err != nil {
		return in, err
	}
	for _, r := range recs {
		in.Records = append(in.Records, kpi.BuildersRecord{Kind: r.Kind, N: r.N, Detail: r.Detail})
	}
	return in, nil
}
