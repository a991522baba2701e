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
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/infra/stack"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/kpi"
)

// pagedQueries makes every Query answer at most limit items (or counts), so a test sees a read page by
// page as a day with more than 1 MB of entries would; it counts the Queries and what they asked for.
type pagedQueries struct {
	*dynamodb.Client
	limit   int32
	queries int
	counts  int // Queries with Select COUNT
}

func (p *pagedQueries) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	p.queries++
	if in.Select == types.SelectCount {
		p.counts++
	}
	c := *in
	c.Limit = aws.Int32(p.limit)
	return p.Client.Query(ctx, &c, opts...)
}

func volS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func volN(v int64) types.AttributeValue  { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

// TestVolunteerDayInputs: a day's volunteer figures are read from that day's index partitions in the
// contract's item shapes (issue 15): profiles created (gsi3 VOLREG#) and verified (gsi4 VOLVER#) that day
// counted with Select COUNT across pages, the day's service records (gsi1 VOLREC#) read whole; other days'
// items are not read.
func TestVolunteerDayInputs(t *testing.T) {
	srv := motoserver.ForTest(t)
	ctx := t.Context()
	cfg, err := srv.AWSConfig(ctx)
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
	res, err := tpl.Create(ctx, cfg, "volkpi", motoserver.S3Options)
	if err != nil {
		t.Fatal(err)
	}
	table := res.Tables["Table"].Name
	sh, _ := time.LoadLocation("Asia/Shanghai")
	db := &pagedQueries{Client: dynamodb.NewFromConfig(cfg), limit: 2}
	st := dynamostore.New(db, table, sh)

	// Profiles: 5 created on the 30th (3 of them verified that day, 1 the next), 2 created the day before.
	var items []dynamostore.Item
	profile := func(sub, created, verified string) dynamostore.Item {
		it := dynamostore.Item{"pk": volS("VOL#" + sub), "sk": volS("PROFILE"), "type": volS("volunteer"), "sub": volS(sub), "name": volS("志愿者 " + sub),
			"verified": &types.AttributeValueMemberBOOL{Value: verified != ""}, "createdAt": volS(created + "T02:00:00.000Z"),
			"gsi3pk": volS("VOLREG#" + created), "gsi3sk": volS(sub)}
		if verified != "" {
			it["gsi4pk"], it["gsi4sk"] = volS("VOLVER#"+verified), volS(sub)
		}
		return it
	}
	for i := range 5 {
		verified := ""
		if i < 3 {
			verified = "2026-11-30"
		} else if i == 3 {
			verified = "2026-12-01"
		}
		items = append(items, profile(fmt.Sprintf("v%d", i), "2026-11-30", verified))
	}
	items = append(items, profile("old1", "2026-11-29", "2026-11-29"), profile("old2", "2026-11-29", ""))
	// Service records: three on the 30th (local day of `at`; 23:30 local is still the 30th), one the next day.
	record := func(act, sub string, rev int64, kind string, minutes, delta int64, at time.Time, team, atype string) dynamostore.Item {
		atKey := at.UTC().Format("2006-01-02T15:04:05.000Z")
		return dynamostore.Item{"pk": volS("ACT#" + act), "sk": volS(fmt.Sprintf("REC#%s#%04d", sub, rev)), "type": volS("service_record"),
			"activityId": volS(act), "sub": volS(sub), "revision": volN(rev), "kind": volS(kind), "minutes": volN(minutes), "delta": volN(delta),
			"by": volS("org1"), "at": volS(atKey), "teamId": volS(team), "atype": volS(atype), "title": volS("全民清扫日"),
			"start": volS("2026-11-30T01:00:00.000Z"), "end": volS("2026-11-30T05:00:00.000Z"),
			"gsi1pk": volS("VOLREC#" + at.In(sh).Format(time.DateOnly)), "gsi1sk": volS(fmt.Sprintf("%s#%s#%s#%d", atKey, act, sub, rev))}
	}
	day := func(h, m int) time.Time { return time.Date(2026, 11, 30, h, m, 0, 0, sh) }
	items = append(items,
		record("a1", "v0", 1, "confirmed", 120, 120, day(14, 0), "t1", "cleanup"),
		record("a1", "v1", 1, "confirmed", 90, 90, day(15, 0), "t1", "cleanup"),
		record("a2", "v0", 1, "confirmed", 45, 45, day(16, 0), "t2", "shift"),
		record("a1", "v1", 2, "revoked", 0, -90, day(23, 30), "t1", "cleanup"),
		record("a2", "v2", 1, "confirmed", 60, 60, day(24, 30), "t2", "shift"), // 00:30 on the 1st
	)
	if err := st.BatchPut(ctx, items); err != nil {
		t.Fatal(err)
	}

	var stats kpi.ReadStats
	in, err := st.VolunteerDayInputs(ctx, "2026-11-30", &stats)
	if err != nil {
		t.Fatal(err)
	}
	if in.Registered != 5 || in.Verified != 3 {
		t.Errorf("registered %d, verified %d; want 5 and 3", in.Registered, in.Verified)
	}
	want := []kpi.VolunteerRecord{
		{Sub: "v0", Kind: "confirmed", Delta: 120, TeamID: "t1", Type: "cleanup"},
		{Sub: "v1", Kind: "confirmed", Delta: 90, TeamID: "t1", Type: "cleanup"},
		{Sub: "v0", Kind: "confirmed", Delta: 45, TeamID: "t2", Type: "shift"},
		{Sub: "v1", Kind: "revoked", Delta: -90, TeamID: "t1", Type: "cleanup"},
	}
	if !slices.Equal(in.Records, want) {
		t.Errorf("records %+v\nwant %+v", in.Records, want)
	}
	// Pages of 2: 5 registrations take 3 pages, 3 verifications 2, 4 records 3 (the last page empty or not,
	// as DynamoDB may answer); all COUNT but the records', and each counted in the stats.
	if db.queries != stats.Queries || db.counts < 5 || db.queries-db.counts < 2 || stats.Items != 4 {
		t.Errorf("queries %d (COUNT %d), stats %+v", db.queries, db.counts, stats)
	}
	t.Logf("one day: %d Queries (%d COUNT), %d items read", db.queries, db.counts, stats.Items)

	// The figures the roll-up makes of them.
	v := kpi.Compute("2026-11-30", kpi.Inputs{Volunteers: in}, sh, day(23, 59)).Volunteers
	if v.Minutes != 165 || v.Confirmations != 3 || v.Revocations != 1 || v.Active.Count() != 2 || v.ByTeam["t1"] != 120 || v.ByType["shift"] != 45 {
		t.Errorf("the day's figures %+v", v)
	}

	// The next day reads its own: one verification, one record; an empty day reads zeros.
	if in, err := st.VolunteerDayInputs(ctx, "2026-12-01", &stats); err != nil || in.Registered != 0 || in.Verified != 1 || len(in.Records) != 1 {
		t.Errorf("the 1st: %+v %v", in, err)
	}
	if in, err := st.VolunteerDayInputs(ctx, "2026-12-02", &stats); err != nil || in.Registered != 0 || in.Verified != 0 || len(in.Records) != 0 {
		t.Errorf("an empty day: %+v %v", in, err)
	}
	// The summary's team names: one BatchGetItem; a team that does not exist has none.
	if err := st.BatchPut(ctx, []dynamostore.Item{{"pk": volS("TEAM#t1"), "sk": volS("TEAM"), "type": volS("team"), "id": volS("t1"),
		"name": volS("红河志愿服务队"), "kind": volS("service_team")}}); err != nil {
		t.Fatal(err)
	}
	if names, err := st.TeamNames(ctx, []string{"t1", "gone"}); err != nil || len(names) != 1 || names["t1"] != "红河志愿服务队" {
		t.Errorf("team names %v %v", names, err)
	}
	// DayInputs carries them.
	all, _, err := st.DayInputs(ctx, "2026-11-30")
	if err != nil || all.Volunteers.Registered != 5 || len(all.Volunteers.Records) != 4 {
		t.Errorf("DayInputs volunteers %+v %v", all.Volunteers, err)
	}
}
