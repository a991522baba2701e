package dynamostore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/kpi"
)

// projectedQueries pages every Query at limit items and keeps what each asked for.
type projectedQueries struct {
	*dynamodb.Client
	limit   int32
	asked   []dynamodb.QueryInput
	answers int // items answered
}

func (p *projectedQueries) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c := *in
	c.Limit = aws.Int32(p.limit)
	p.asked = append(p.asked, c)
	out, err := p.Client.Query(ctx, &c, opts...)
	if err == nil {
		p.answers += len(out.Items)
	}
	return out, err
}

// TestBuildersDayInputs: a day's builders' records are read from that day's gsi1 partition BLDREC#<day>
// in the contract's item shape (issue 16), page by page, projecting kind, n and detail only; records of
// other days (the local day of `at`: 00:30 local is the next day) are not read.
func TestBuildersDayInputs(t *testing.T) {
	ctx := t.Context()
	cfg, err := moto.AWSConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	root, err := motoserver.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := stack.Load(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := tpl.Create(ctx, cfg, fmt.Sprintf("bldkpi%d", tables.Add(1)), motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	table := res.Tables["Table"].Name
	sh, _ := time.LoadLocation("Asia/Shanghai")
	db := &projectedQueries{Client: dynamodb.NewFromConfig(cfg), limit: 2}
	st := dynamostore.New(db, table, sh)

	record := func(kind, id string, n int64, sub, ref, detail string, at time.Time) dynamostore.Item {
		atKey := at.UTC().Format("2006-01-02T15:04:05.000Z")
		it := dynamostore.Item{"pk": volS("BLDREC#" + kind + "#" + id), "sk": volS("BLDREC"), "type": volS("builders_record"),
			"kind": volS(kind), "n": volN(n), "ref": volS(ref), "at": volS(atKey),
			"gsi1pk": volS("BLDREC#" + at.In(sh).Format(time.DateOnly)), "gsi1sk": volS(atKey + "#" + kind + "#" + id)}
		if sub != "" {
			it["sub"] = volS(sub)
		}
		if detail != "" {
			it["detail"] = volS(detail)
		}
		return it
	}
	day := func(h, m int) time.Time { return time.Date(2026, 11, 30, h, m, 0, 0, sh) }
	items := []dynamostore.Item{
		record(builders.RecEmployerVerified, "e1", 1, "", "e1", "", day(9, 0)),
		record(builders.RecJobPosted, "j1", 10, "", "j1", "", day(9, 30)),
		record(builders.RecSearch, "2026-11-30#w1#abc", 1, "w1", "", "", day(10, 0)),
		record(builders.RecApplication, "j1#w1", 1, "w1", "j1", "", day(10, 5)),
		record(builders.RecHire, "j1#w1", 1, "w1", "j1", "", day(11, 0)),
		record(builders.RecHireCompleted, "j1#w1", 1, "w1", "j1", "", day(15, 0)),
		record(builders.RecConsultation, "d1#s1#w1", 1, "w1", "d1#s1", builders.DeskLegal, day(23, 30)),
		record(builders.RecTransfer, "t1", 120, "", "t1", "", day(24, 30)), // 00:30 on the 1st
		record(builders.RecJobPosted, "j0", 4, "", "j0", "", day(-1, 0)),   // 23:00 on the 29th
	}
	if err := st.BatchPut(ctx, items); err != nil {
		t.Fatal(err)
	}

	var stats kpi.ReadStats
	in, err := st.BuildersDayInputs(ctx, "2026-11-30", &stats)
	if err != nil {
		t.Fatal(err)
	}
	want := []kpi.BuildersRecord{
		{Kind: builders.RecEmployerVerified, N: 1}, {Kind: builders.RecJobPosted, N: 10}, {Kind: builders.RecSearch, N: 1},
		{Kind: builders.RecApplication, N: 1}, {Kind: builders.RecHire, N: 1}, {Kind: builders.RecHireCompleted, N: 1},
		{Kind: builders.RecConsultation, N: 1, Detail: builders.DeskLegal},
	}
	if !slices.Equal(in.Records, want) {
		t.Errorf("records %+v\nwant %+v", in.Records, want)
	}
	// Pages of 2: 7 records take 4 Queries, all of gsi1 BLDREC#2026-11-30 with the three attributes, each
	// counted in the stats.
	if len(db.asked) != 4 || stats.Queries != 4 || stats.Items != 7 || db.answers != 7 {
		t.Errorf("%d Queries answering %d items, stats %+v; want 4 answering 7", len(db.asked), db.answers, stats)
	}
	for _, q := range db.asked {
		if aws.ToString(q.IndexName) != "gsi1" || aws.ToString(q.ProjectionExpression) != "kind, n, detail" ||
			fmt.Sprint(q.ExpressionAttributeValues[":pk"]) != fmt.Sprint(volS("BLDREC#2026-11-30")) {
			t.Errorf("query %s %s %v", aws.ToString(q.IndexName), aws.ToString(q.ProjectionExpression), q.ExpressionAttributeValues)
		}
	}

	// The figures the roll-up makes of them.
	b := kpi.Compute("2026-11-30", kpi.Inputs{Builders: in}, sh, day(23, 59)).Builders
	if b.EmployersVerified != 1 || b.JobsPosted != 1 || b.PlacesOffered != 10 || b.Searches != 1 || b.Applications != 1 || b.Hires != 1 ||
		b.HiresCompleted != 1 || b.Consultations.Legal != 1 || b.Transfers != 0 {
		t.Errorf("the day's figures %+v", b)
	}
	// The next day reads its transfer only; an empty day reads nothing.
	if in, err := st.BuildersDayInputs(ctx, "2026-12-01", &stats); err != nil || !slices.Equal(in.Records, []kpi.BuildersRecord{{Kind: builders.RecTransfer, N: 120}}) {
		t.Errorf("the 1st: %+v %v", in, err)
	}
	if in, err := st.BuildersDayInputs(ctx, "2026-12-02", &stats); err != nil || len(in.Records) != 0 {
		t.Errorf("an empty day: %+v %v", in, err)
	}
	// DayInputs carries them.
	all, _, err := st.DayInputs(ctx, "2026-11-29")
	if err != nil || !slices.Equal(all.Builders.Records, []kpi.BuildersRecord{{Kind: builders.RecJobPosted, N: 4}}) {
		t.Errorf("DayInputs builders %+v %v", all.Builders, err)
	}
}
