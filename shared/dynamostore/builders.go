package dynamostore

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders' home (建设者之家), README "Builders' home": employers, settings and worker profiles (this file),
// jobs (builders_job.go), hires (builders_hire.go), fairs, transfers and desks (builders_fair.go), KPI records
// (builders_record.go).
//
//	settings       pk=CONFIG            sk=BUILDERS
//	employer       pk=EMPLOYER#<sub>    sk=PROFILE         gsi1 EMPLOYERS#<estatus>/<createdAt>#<sub>
//	licence claim  pk=LICENCE#<licence> sk=LICENCE
//	report         pk=EMPLOYER#<sub>    sk=REPORT#<reporterSub>
//	worker         pk=WORKER#<sub>      sk=PROFILE
//	match entry    pk=WORKER#<sub>      sk=TRADE#<trade>   gsi1 WORKERS#<trade>#<geohash4>/<availableFrom>#<sub>

func employerPK(sub string) string      { return "EMPLOYER#" + sub }
func licencePK(licence string) string   { return "LICENCE#" + licence }
func workerPK(sub string) string        { return "WORKER#" + sub }
func tradeSK(trade string) string       { return "TRADE#" + trade }
func employersGSI(status string) string { return "EMPLOYERS#" + status }

// contactAttr is a contact as stored.
type contactAttr struct {
	Name  string `dynamodbav:"name"`
	Phone string `dynamodbav:"phone"`
}

// employerItem is an employer as stored.
type employerItem struct {
	PK           string      `dynamodbav:"pk"`
	SK           string      `dynamodbav:"sk"`
	Type         string      `dynamodbav:"type"`
	Sub          string      `dynamodbav:"sub"`
	Name         string      `dynamodbav:"name"`
	Licence      string      `dynamodbav:"licence"`
	Contact      contactAttr `dynamodbav:"contact"`
	Address      string      `dynamodbav:"address,omitempty"`
	EStatus      string      `dynamodbav:"estatus"`
	StatusReason string      `dynamodbav:"statusReason,omitempty"`
	VerifiedBy   string      `dynamodbav:"verifiedBy,omitempty"`
	VerifiedAt   string      `dynamodbav:"verifiedAt,omitempty"`
	Reports      int         `dynamodbav:"reports"`
	OpenJobs     int         `dynamodbav:"openJobs"`
	CreatedAt    string      `dynamodbav:"createdAt"`
	UpdatedAt    string      `dynamodbav:"updatedAt,omitempty"`
	GSI1PK       string      `dynamodbav:"gsi1pk"`
	GSI1SK       string      `dynamodbav:"gsi1sk"`
}

func (it employerItem) employer() builders.Employer {
	return builders.Employer{
		Sub: it.Sub, Name: it.Name, Licence: it.Licence, Contact: builders.Contact{Name: it.Contact.Name, Phone: it.Contact.Phone},
		Address: it.Address, Status: it.EStatus, StatusReason: it.StatusReason, VerifiedBy: it.VerifiedBy,
		VerifiedAt: parseTime(it.VerifiedAt), Reports: it.Reports, OpenJobs: it.OpenJobs,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
}

func employerItemOf(e builders.Employer) employerItem {
	it := employerItem{
		PK: employerPK(e.Sub), SK: "PROFILE", Type: "employer", Sub: e.Sub, Name: e.Name, Licence: e.Licence,
		Contact: contactAttr{Name: e.Contact.Name, Phone: e.Contact.Phone}, Address: e.Address, EStatus: e.Status,
		StatusReason: e.StatusReason, VerifiedBy: e.VerifiedBy, Reports: e.Reports, OpenJobs: e.OpenJobs,
		CreatedAt: timeKey(e.CreatedAt), GSI1PK: employersGSI(e.Status), GSI1SK: timeKey(e.CreatedAt) + "#" + e.Sub,
	}
	if !e.VerifiedAt.IsZero() {
		it.VerifiedAt = timeKey(e.VerifiedAt)
	}
	if !e.UpdatedAt.IsZero() {
		it.UpdatedAt = timeKey(e.UpdatedAt)
	}
	return it
}

// areaAttr is a worker's area as stored.
type areaAttr struct {
	Lat      float64 `dynamodbav:"lat"`
	Lng      float64 `dynamodbav:"lng"`
	RadiusKm int     `dynamodbav:"radiusKm"`
	Name     string  `dynamodbav:"name,omitempty"`
}

// wageAttr is a wage as stored.
type wageAttr struct {
	Min           int    `dynamodbav:"min"`
	Max           int    `dynamodbav:"max"`
	Unit          string `dynamodbav:"unit"`
	DailyEstimate int    `dynamodbav:"dailyEstimate,omitempty"`
}

func areaAttrOf(a builders.Area) areaAttr {
	return areaAttr{Lat: a.Lat, Lng: a.Lng, RadiusKm: a.RadiusKm, Name: a.Name}
}

func (a areaAttr) area() builders.Area {
	return builders.Area{Lat: a.Lat, Lng: a.Lng, RadiusKm: a.RadiusKm, Name: a.Name}
}

func wageAttrOf(w builders.Wage) wageAttr {
	return wageAttr{Min: w.Min, Max: w.Max, Unit: w.Unit, DailyEstimate: w.DailyEstimate}
}

func (w wageAttr) wage() builders.Wage {
	return builders.Wage{Min: w.Min, Max: w.Max, Unit: w.Unit, DailyEstimate: w.DailyEstimate}
}

// workerItem is a worker profile as stored.
type workerItem struct {
	PK            string   `dynamodbav:"pk"`
	SK            string   `dynamodbav:"sk"`
	Type          string   `dynamodbav:"type"`
	Sub           string   `dynamodbav:"sub"`
	Name          string   `dynamodbav:"name"`
	Phone         string   `dynamodbav:"phone"`
	Trades        []string `dynamodbav:"trades"`
	Years         int      `dynamodbav:"years"`
	Area          areaAttr `dynamodbav:"area"`
	Expected      wageAttr `dynamodbav:"expected"`
	AvailableFrom string   `dynamodbav:"availableFrom"`
	Visibility    string   `dynamodbav:"visibility"`
	CreatedAt     string   `dynamodbav:"createdAt"`
	UpdatedAt     string   `dynamodbav:"updatedAt,omitempty"`
}

func (it workerItem) worker() builders.Worker {
	return builders.Worker{
		Sub: it.Sub, Name: it.Name, Phone: it.Phone, Trades: nonNil(it.Trades), Years: it.Years,
		Area: it.Area.area(), Expected: it.Expected.wage(), AvailableFrom: it.AvailableFrom, Visibility: it.Visibility,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
}

// buildersSettingsItem is the builders' settings as stored.
type buildersSettingsItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	MinimumWage struct {
		Month int `dynamodbav:"month"`
		Day   int `dynamodbav:"day"`
	} `dynamodbav:"minimumWage"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	UpdatedBy string `dynamodbav:"updatedBy"`
}

// Employer returns the employer sub registered (builders.ErrEmployerNotFound when there is none).
func (s *Store) Employer(ctx context.Context, sub string) (builders.Employer, error) {
	var it employerItem
	ok, err := s.getItem(ctx, "get employer", employerPK(sub), "PROFILE", &it)
	if err != nil {
		return builders.Employer{}, err
	}
	if !ok || it.Type != "employer" {
		return builders.Employer{}, builders.ErrEmployerNotFound
	}
	return it.employer(), nil
}

// Worker returns sub's worker profile, with the phone (builders.ErrNotWorker when there is none).
func (s *Store) Worker(ctx context.Context, sub string) (builders.Worker, error) {
	var it workerItem
	ok, err := s.getItem(ctx, "get worker", workerPK(sub), "PROFILE", &it)
	if err != nil {
		return builders.Worker{}, err
	}
	if !ok || it.Type != "worker" {
		return builders.Worker{}, builders.ErrNotWorker
	}
	return it.worker(), nil
}

// BuildersSettings returns the builders' settings (builders.DefaultSettings until an admin saves some).
func (s *Store) BuildersSettings(ctx context.Context) (builders.Settings, error) {
	var it buildersSettingsItem
	ok, err := s.getItem(ctx, "get builders settings", "CONFIG", "BUILDERS", &it)
	if err != nil {
		return builders.Settings{}, err
	}
	if !ok {
		return builders.DefaultSettings(), nil
	}
	return builders.Settings{
		MinimumWage: builders.MinimumWage{Month: it.MinimumWage.Month, Day: it.MinimumWage.Day},
		UpdatedAt:   parseTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy,
	}, nil
}

// PutBuildersSettings saves the settings (a whole-item put: the same settings applied twice are the same).
func (s *Store) PutBuildersSettings(ctx context.Context, st builders.Settings) error {
	var it buildersSettingsItem
	it.PK, it.SK, it.Type = "CONFIG", "BUILDERS", "builders_settings"
	it.MinimumWage.Month, it.MinimumWage.Day = st.MinimumWage.Month, st.MinimumWage.Day
	it.UpdatedAt, it.UpdatedBy = timeKey(st.UpdatedAt), st.UpdatedBy
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return fmt.Errorf("put builders settings: %w", err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return translate("put builders settings", err)
	}
	return nil
}

// licenceClaim is the put of the claim of e's licence for e's account: it fails when another account holds it.
func (s *Store) licenceClaim(e builders.Employer) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: &s.table,
		Item:                      map[string]types.AttributeValue{"pk": str(licencePK(e.Licence)), "sk": str("LICENCE"), "type": str("licence"), "sub": str(e.Sub)},
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR #sub = :sub"),
		ExpressionAttributeNames:  map[string]string{"#sub": "sub"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":sub": str(e.Sub)},
	}}
}

// RegisterEmployer writes a registration (prev nil: the employer must not exist) or its correction (the
// stored employer must still be prev: status, licence, update time, reports and open jobs), with the
// licence's claim, in one transaction; a changed licence's old claim is released in it.
func (s *Store) RegisterEmployer(ctx context.Context, e builders.Employer, prev *builders.Employer) error {
	item, err := attributevalue.MarshalMap(employerItemOf(e))
	if err != nil {
		return fmt.Errorf("register employer: %w", err)
	}
	put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	if prev != nil {
		put.ConditionExpression = aws.String("estatus = :st AND licence = :lic AND updatedAt = :up AND reports = :rep AND openJobs = :open")
		put.ExpressionAttributeValues = map[string]types.AttributeValue{
			":st": str(prev.Status), ":lic": str(prev.Licence), ":up": str(timeKey(prev.UpdatedAt)),
			":rep": num(int64(prev.Reports)), ":open": num(int64(prev.OpenJobs)),
		}
	}
	items := []types.TransactWriteItem{{Put: put}, s.licenceClaim(e)}
	if prev != nil && prev.Licence != e.Licence {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table,
			Key:                       keyOf(licencePK(prev.Licence), "LICENCE"),
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR #sub = :sub"),
			ExpressionAttributeNames:  map[string]string{"#sub": "sub"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":sub": str(e.Sub)},
		}})
	}
	var a attempts
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, a.option)
	if rs := cancellationReasons(err); len(rs) > 1 {
		switch {
		case aws.ToString(rs[0].Code) == "ConditionalCheckFailed":
			return builders.ErrEmployerStatus
		case aws.ToString(rs[1].Code) == "ConditionalCheckFailed":
			return builders.ErrLicenceTaken
		}
	}
	if err != nil {
		return a.settle("register employer "+e.Sub, err)
	}
	return nil
}

// SetEmployerStatus moves the employer to e's status (its reason, verifier and update time) if its status is
// one of from; rec, when not nil, is written in the same transaction (once: a record that exists cancels
// it, ErrEmployerStatus).
func (s *Store) SetEmployerStatus(ctx context.Context, e builders.Employer, from []string, rec *builders.Record) error {
	vals := map[string]types.AttributeValue{
		":to": str(e.Status), ":g1": str(employersGSI(e.Status)), ":up": str(timeKey(e.UpdatedAt)),
	}
	set := "SET estatus = :to, gsi1pk = :g1, updatedAt = :up"
	remove := ""
	if e.StatusReason != "" {
		set += ", statusReason = :reason"
		vals[":reason"] = str(e.StatusReason)
	} else {
		remove = " REMOVE statusReason"
	}
	if !e.VerifiedAt.IsZero() {
		set += ", verifiedBy = :by, verifiedAt = :vat"
		vals[":by"], vals[":vat"] = str(e.VerifiedBy), str(timeKey(e.VerifiedAt))
	}
	cond := "attribute_exists(pk) AND estatus IN ("
	for i, f := range from {
		k := fmt.Sprintf(":from%d", i)
		vals[k] = str(f)
		if i > 0 {
			cond += ", "
		}
		cond += k
	}
	cond += ")"
	upd := &types.Update{TableName: &s.table, Key: keyOf(employerPK(e.Sub), "PROFILE"),
		UpdateExpression: aws.String(set + remove), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}
	items := []types.TransactWriteItem{{Update: upd}}
	if rec != nil {
		items = append(items, s.builderRecordPut(*rec))
	}
	var a attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, a.option)
	if slices.ContainsFunc(cancellationReasons(err), func(r types.CancellationReason) bool {
		return aws.ToString(r.Code) == "ConditionalCheckFailed"
	}) {
		return builders.ErrEmployerStatus
	}
	if err != nil {
		return a.settle("set employer status "+e.Sub, err)
	}
	return nil
}

// employersCursor is a review queue's position: the last gsi1 sort key read (<createdAt>#<sub>).
func employersCursor(lek map[string]types.AttributeValue) string {
	if lek == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(stringAttr(lek, "gsi1sk")))
}

func decodeEmployersCursor(cursor, status string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	at, sub, ok := strings.Cut(string(b), "#")
	if err != nil || !ok || sub == "" || len(b) > 512 || parseTime(at).IsZero() {
		return nil, builders.ErrInvalid.With("cursor is not one this list gave")
	}
	return map[string]types.AttributeValue{
		"pk": str(employerPK(sub)), "sk": str("PROFILE"), "gsi1pk": str(employersGSI(status)), "gsi1sk": str(string(b)),
	}, nil
}

// Employers lists the employers of a status, oldest registration first (one Query of gsi1).
func (s *Store) Employers(ctx context.Context, status, cursor string, limit int) ([]builders.Employer, string, error) {
	start, err := decodeEmployersCursor(cursor, status)
	if err != nil {
		return nil, "", err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(employersGSI(status))},
		ExclusiveStartKey:         start, Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, "", translate("list employers", err)
	}
	var its []employerItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &its); err != nil {
		return nil, "", fmt.Errorf("list employers: decode: %w", err)
	}
	es := make([]builders.Employer, 0, len(its))
	for _, it := range its {
		es = append(es, it.employer())
	}
	return es, employersCursor(out.LastEvaluatedKey), nil
}

// ReportEmployer writes reporter's report and the employer's reports + 1 in one transaction; false when the
// reporter's report exists (nothing written).
func (s *Store) ReportEmployer(ctx context.Context, employerSub, reporterSub, reason string, at time.Time) (bool, error) {
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, ConditionExpression: aws.String("attribute_not_exists(pk)"),
			Item: map[string]types.AttributeValue{"pk": str(employerPK(employerSub)), "sk": str("REPORT#" + reporterSub),
				"type": str("employer_report"), "reason": str(reason), "at": str(timeKey(at))}}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(employerPK(employerSub), "PROFILE"),
			UpdateExpression: aws.String("SET reports = reports + :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
	}
	var a attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, a.option)
	if rs := cancellationReasons(err); len(rs) > 1 {
		if aws.ToString(rs[0].Code) == "ConditionalCheckFailed" {
			return false, nil
		}
		if aws.ToString(rs[1].Code) == "ConditionalCheckFailed" {
			return false, builders.ErrEmployerNotFound
		}
	}
	if err != nil {
		return false, a.settle("report employer "+employerSub, err)
	}
	return true, nil
}

// EmployerOpenJobIDs walks the employer's jobs (gsi3 EMPJOBS#<sub>, newest first, 100 keys a page; each
// page's jobs read with one BatchGetItem of id and jstatus) until it has limit open ones or none is left, and
// at most employerJobPages pages: an employer's open jobs are its newest (a job is open at most MaxJobDays
// plus its start's year ahead), so the walk never reads years of closed ones.
func (s *Store) EmployerOpenJobIDs(ctx context.Context, sub string, limit int) ([]string, error) {
	var ids []string
	pages := 0
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi3"),
		KeyConditionExpression:    aws.String("gsi3pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("EMPJOBS#" + sub)},
		ProjectionExpression:      aws.String("pk, sk"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(100)}
	for len(ids) < limit {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("employer's jobs "+sub, err)
		}
		if len(page.Items) > 0 {
			keys := make([]map[string]types.AttributeValue, 0, len(page.Items))
			for _, it := range page.Items {
				keys = append(keys, map[string]types.AttributeValue{"pk": it["pk"], "sk": it["sk"]})
			}
			err := s.batchGetEach(ctx, keys, "id, jstatus", nil, func(it map[string]types.AttributeValue) error {
				if stringAttr(it, "jstatus") == builders.JobOpen && len(ids) < limit {
					ids = append(ids, stringAttr(it, "id"))
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
		if pages++; page.LastEvaluatedKey == nil || pages >= employerJobPages {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return ids, nil
}

// employerJobPages bounds the walk of an employer's jobs: 20 pages of 100, the newest 2,000 jobs.
const employerJobPages = 20

// matchEntryItem is a worker's match entry as stored: PutWorker writes it, MatchEntries (builders_job.go)
// reads it.
type matchEntryItem struct {
	PK            string   `dynamodbav:"pk"`
	SK            string   `dynamodbav:"sk"`
	Type          string   `dynamodbav:"type"`
	Sub           string   `dynamodbav:"sub"`
	Trade         string   `dynamodbav:"trade"`
	DisplayName   string   `dynamodbav:"displayName"`
	Years         int      `dynamodbav:"years"`
	Area          areaAttr `dynamodbav:"area"`
	Expected      wageAttr `dynamodbav:"expected"`
	DailyWant     float64  `dynamodbav:"dailyWant"`
	AvailableFrom string   `dynamodbav:"availableFrom"`
	GSI1PK        string   `dynamodbav:"gsi1pk"`
	GSI1SK        string   `dynamodbav:"gsi1sk"`
}

// workerCell is the geohash4 cell of a worker's area (the matching index's cell, the jobs' precision).
func workerCell(a builders.Area) string { return geohash.EncodeWithPrecision(a.Lat, a.Lng, 4) }

func matchEntryItemOf(e builders.MatchEntry) matchEntryItem {
	return matchEntryItem{PK: workerPK(e.Sub), SK: tradeSK(e.Trade), Type: "worker_match", Sub: e.Sub, Trade: e.Trade,
		DisplayName: e.DisplayName, Years: e.Years, Area: areaAttrOf(e.Area), Expected: wageAttrOf(e.Expected),
		DailyWant: e.DailyWant, AvailableFrom: e.AvailableFrom,
		GSI1PK: "WORKERS#" + e.Trade + "#" + workerCell(e.Area), GSI1SK: e.AvailableFrom + "#" + e.Sub}
}

func (it matchEntryItem) entry() builders.MatchEntry {
	return builders.MatchEntry{Sub: it.Sub, Trade: it.Trade, DisplayName: it.DisplayName, Years: it.Years,
		Area: it.Area.area(), Expected: it.Expected.wage(), DailyWant: it.DailyWant, AvailableFrom: it.AvailableFrom}
}

func workerItemOf(w builders.Worker) workerItem {
	it := workerItem{PK: workerPK(w.Sub), SK: "PROFILE", Type: "worker", Sub: w.Sub, Name: w.Name, Phone: w.Phone,
		Trades: w.Trades, Years: w.Years, Area: areaAttrOf(w.Area),
		Expected: wageAttrOf(w.Expected), AvailableFrom: w.AvailableFrom, Visibility: w.Visibility, CreatedAt: timeKey(w.CreatedAt)}
	if !w.UpdatedAt.IsZero() {
		it.UpdatedAt = timeKey(w.UpdatedAt)
	}
	return it
}

// profileCondition is the condition that the stored profile is still prev (nil: that there is none).
func profileCondition(prev *builders.Worker) (string, map[string]types.AttributeValue) {
	if prev == nil {
		return "attribute_not_exists(pk)", nil
	}
	return "updatedAt = :prevUp", map[string]types.AttributeValue{":prevUp": str(timeKey(prev.UpdatedAt))}
}

// PutWorker writes the profile, puts entries and deletes the entries of prev's trades that entries lack, in
// one transaction (at most 1 + 2·MaxTrades items), on the condition that the profile is still prev.
func (s *Store) PutWorker(ctx context.Context, w builders.Worker, entries []builders.MatchEntry, prev *builders.Worker) error {
	item, err := attributevalue.MarshalMap(workerItemOf(w))
	if err != nil {
		return fmt.Errorf("put worker: %w", err)
	}
	cond, vals := profileCondition(prev)
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: item,
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}}
	kept := map[string]bool{}
	for _, e := range entries {
		it, err := attributevalue.MarshalMap(matchEntryItemOf(e))
		if err != nil {
			return fmt.Errorf("put worker: %w", err)
		}
		kept[e.Trade] = true
		items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: it}})
	}
	if prev != nil {
		for _, t := range prev.Trades {
			if !kept[t] {
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(workerPK(w.Sub), tradeSK(t))}})
			}
		}
	}
	return s.workerTransact(ctx, "put worker "+w.Sub, items)
}

// DeleteWorker deletes the profile (if it is still prev) and its match entries in one transaction.
func (s *Store) DeleteWorker(ctx context.Context, prev builders.Worker) error {
	cond, vals := profileCondition(&prev)
	items := []types.TransactWriteItem{{Delete: &types.Delete{TableName: &s.table, Key: keyOf(workerPK(prev.Sub), "PROFILE"),
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}}}
	for _, t := range prev.Trades {
		items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: keyOf(workerPK(prev.Sub), tradeSK(t))}})
	}
	return s.workerTransact(ctx, "delete worker "+prev.Sub, items)
}

// workerTransact runs a profile's transaction: its first item's failed condition is ErrWorkerChanged.
func (s *Store) workerTransact(ctx context.Context, op string, items []types.TransactWriteItem) error {
	var a attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, a.option)
	if rs := cancellationReasons(err); len(rs) > 0 && aws.ToString(rs[0].Code) == "ConditionalCheckFailed" {
		return builders.ErrWorkerChanged
	}
	if err != nil {
		return a.settle(op, err)
	}
	return nil
}
