package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Points:
//
//	profile        pk=USER#<sub>          sk=PROFILE      (version-conditioned writes)
//	  gsi4         gsi4pk=REGISTERED#<local day> gsi4sk=<sub> (KPI: registered users)
//	               (no day-of-last-write index entry: the reconciler finds the users of a day by their
//	               ledger entries' gsi3 POINTS#<day>, which every balance change writes anyway)
//	ledger entry   pk=USER#<sub>          sk=LEDGER#<at>#<entry id>   (append-only)
//	  gsi3         gsi3pk=POINTS#<local day>  gsi3sk=<at>#<sub>#<id>   (KPI: points issued/redeemed)
//	award          the award's ledger entry: <at> is the resolution's time and <entry id> award-<report>#<sub>#<rule>,
//	               so its key is the award's identity (attribute_not_exists); it carries what the award
//	               granted (rule, points, granted, debtPaid, merit) and, once reversed, reversed=true. A
//	               revocation that comes first puts a placeholder there (delta 0, placeholder=true, no
//	               gsi3 keys), which the ledger's listing leaves out.
//	volunteer      a confirmed service record's award is a ledger entry like a report's: <at> is the record's
//	award          time, <entry id> award-<activity>#<sub>#volunteer#<revision>; it carries activityId, revision
//	               and the minutes it credited (the profile's volunteerMinutes sums the unreversed ones)
//	point rules    pk=CONFIG#POINTS       sk=RULES
//	duplicate      gsi4pk=DUPOF#<original> gsi4sk=<createdAt>#<id>   (on the duplicate's report item)
type profileItem struct {
	PK               string               `dynamodbav:"pk"`
	SK               string               `dynamodbav:"sk"`
	Type             string               `dynamodbav:"type"`
	Sub              string               `dynamodbav:"sub"`
	Balance          int64                `dynamodbav:"balance"`
	Merit            int64                `dynamodbav:"merit"`
	ValidReports     int64                `dynamodbav:"validReports"`
	VolunteerMinutes int64                `dynamodbav:"volunteerMinutes,omitempty"` // absent until a first volunteer award
	Honors           []points.EarnedHonor `dynamodbav:"honors"`
	LifetimeEarned   int64                `dynamodbav:"lifetimeEarned"`
	LifetimeRedeemed int64                `dynamodbav:"lifetimeRedeemed"`
	Debt             int64                `dynamodbav:"debt"`
	Version          int64                `dynamodbav:"version"`
	Day              string               `dynamodbav:"day"`
	DayEarned        int64                `dynamodbav:"dayEarned"`
	Month            string               `dynamodbav:"month"`
	MonthEarned      int64                `dynamodbav:"monthEarned"`
	CreatedAt        string               `dynamodbav:"createdAt"`
	LimitMonth       string               `dynamodbav:"limitMonth,omitempty"` // the honor supermarket's limits (market.go)
	Limits           map[string]int64     `dynamodbav:"limits,omitempty"`
	BoughtOnce       []string             `dynamodbav:"boughtOnce,stringset,omitempty"`
	GSI4PK           string               `dynamodbav:"gsi4pk"`
	GSI4SK           string               `dynamodbav:"gsi4sk"`
}

func userPK(sub string) string { return "USER#" + sub }

func profileKey(sub string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str("PROFILE")}
}

// toProfileItem renders p written at time at. A profile that was never stored is created now.
func (s *Store) toProfileItem(p points.Profile, at time.Time) profileItem {
	created := p.CreatedAt
	if created.IsZero() {
		created = at
	}
	createdAt := timeKey(created)
	honors := p.Honors
	if honors == nil {
		honors = []points.EarnedHonor{}
	}
	return profileItem{
		PK: userPK(p.Sub), SK: "PROFILE", Type: "profile", Sub: p.Sub, Balance: p.Balance, Merit: p.Merit,
		ValidReports: p.ValidReports, VolunteerMinutes: p.VolunteerMinutes, Honors: honors, LifetimeEarned: p.LifetimeEarned, LifetimeRedeemed: p.LifetimeRedeemed,
		Debt: p.Debt, Version: p.Version, Day: p.Day, DayEarned: p.DayEarned, Month: p.Month, MonthEarned: p.MonthEarned,
		CreatedAt: createdAt, LimitMonth: p.LimitMonth, Limits: p.LimitCounts, BoughtOnce: p.BoughtOnce,
		GSI4PK: "REGISTERED#" + s.dayKey(created), GSI4SK: p.Sub,
	}
}

func (it profileItem) profile() points.Profile {
	return points.Profile{Sub: it.Sub, Balance: it.Balance, Merit: it.Merit, ValidReports: it.ValidReports, VolunteerMinutes: it.VolunteerMinutes, Honors: it.Honors,
		LifetimeEarned: it.LifetimeEarned, LifetimeRedeemed: it.LifetimeRedeemed, Debt: it.Debt, Version: it.Version,
		Day: it.Day, DayEarned: it.DayEarned, Month: it.Month, MonthEarned: it.MonthEarned, CreatedAt: parseTime(it.CreatedAt),
		LimitMonth: it.LimitMonth, LimitCounts: it.Limits, BoughtOnce: it.BoughtOnce}
}

// getProfile reads the profile item; ok is false when there is none.
func (s *Store) getProfile(ctx context.Context, sub string) (profileItem, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: profileKey(sub), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return profileItem{}, false, translate("get profile", err)
	}
	if out.Item == nil {
		return profileItem{}, false, nil
	}
	var it profileItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return profileItem{}, false, fmt.Errorf("decode profile: %w", err)
	}
	return it, true, nil
}

// Profile returns the profile, or a zero one (Version 0) when the user has none.
func (s *Store) Profile(ctx context.Context, sub string) (points.Profile, error) {
	it, ok, err := s.getProfile(ctx, sub)
	if err != nil || !ok {
		return points.Profile{Sub: sub}, err
	}
	return it.profile(), nil
}

// CreateProfile creates an empty profile (version 1) unless one exists.
func (s *Store) CreateProfile(ctx context.Context, sub string, at time.Time) (points.Profile, error) {
	p := points.Profile{Sub: sub, Version: 1}
	item, err := attributevalue.MarshalMap(s.toProfileItem(p, at))
	if err != nil {
		return points.Profile{}, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, ok := conditionFailed(err); ok {
		return s.Profile(ctx, sub)
	}
	if err != nil {
		return points.Profile{}, translate("create profile", err)
	}
	p.CreatedAt = parseTime(timeKey(at))
	return p, nil
}

// touched is the time a profile write happens: the service's clock, or the entry's time.
func touched(p points.Profile, fallback time.Time) time.Time {
	if !p.TouchedAt.IsZero() {
		return p.TouchedAt
	}
	return fallback
}

// profilePut is the transaction item writing p if the stored version is still prev. at is when the write
// happens (a profile first stored now is registered on at's day).
func (s *Store) profilePut(p points.Profile, prev int64, at time.Time) (types.TransactWriteItem, error) {
	item, err := attributevalue.MarshalMap(s.toProfileItem(p, at))
	if err != nil {
		return types.TransactWriteItem{}, err
	}
	return types.TransactWriteItem{Put: &types.Put{
		TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("(attribute_not_exists(pk) AND :prev = :zero) OR version = :prev"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":prev": num(prev), ":zero": num(0)},
	}}, nil
}

type ledgerItem struct {
	PK           string `dynamodbav:"pk"`
	SK           string `dynamodbav:"sk"`
	Type         string `dynamodbav:"type"`
	ID           string `dynamodbav:"id"`
	Sub          string `dynamodbav:"sub"`
	At           string `dynamodbav:"at"`
	Delta        int64  `dynamodbav:"delta"`
	Kind         string `dynamodbav:"kind"`
	ReportID     string `dynamodbav:"reportId,omitempty"`
	RedemptionID string `dynamodbav:"redemptionId,omitempty"`
	ActivityID   string `dynamodbav:"activityId,omitempty"` // a volunteer award's or reversal's
	Note         string `dynamodbav:"note,omitempty"`
	// An award's entry records the award (points.Award) besides its delta.
	Rule        string `dynamodbav:"rule,omitempty"`
	Points      int64  `dynamodbav:"points,omitempty"`
	Granted     int64  `dynamodbav:"granted,omitempty"`
	DebtPaid    int64  `dynamodbav:"debtPaid,omitempty"`
	Merit       int64  `dynamodbav:"merit,omitempty"`
	Reversed    bool   `dynamodbav:"reversed,omitempty"`
	Placeholder bool   `dynamodbav:"placeholder,omitempty"`
	Settled     bool   `dynamodbav:"settled,omitempty"`  // a placeholder whose own record came since
	Revision    int64  `dynamodbav:"revision,omitempty"` // a volunteer award's attendance revision
	Minutes     int64  `dynamodbav:"minutes,omitempty"`  // and the minutes it credited
	GSI3PK      string `dynamodbav:"gsi3pk,omitempty"`
	GSI3SK      string `dynamodbav:"gsi3sk,omitempty"`
}

func ledgerSK(at time.Time, id string) string { return "LEDGER#" + timeKey(at) + "#" + id }

// awardKey is the key of an award's ledger entry (its identity).
func awardKey(a points.Award) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(userPK(a.Sub)), "sk": str(ledgerSK(a.At, a.EntryID()))}
}

func (s *Store) ledgerItem(sub string, e points.Entry) ledgerItem {
	at := timeKey(e.At)
	return ledgerItem{
		PK: userPK(sub), SK: ledgerSK(e.At, e.ID), Type: "ledger", ID: e.ID, Sub: sub, At: at, Delta: e.Delta,
		Kind: e.Kind, ReportID: e.ReportID, RedemptionID: e.RedemptionID, ActivityID: e.ActivityID, Note: e.Note,
		GSI3PK: "POINTS#" + s.dayKey(e.At), GSI3SK: at + "#" + sub + "#" + e.ID,
	}
}

func (s *Store) ledgerPut(sub string, e points.Entry) (types.TransactWriteItem, error) {
	return s.putItem(s.ledgerItem(sub, e), "attribute_not_exists(pk)")
}

func (it ledgerItem) award() points.Award {
	return points.Award{ReportID: it.ReportID, Sub: it.Sub, Rule: it.Rule, Points: it.Points, Granted: it.Granted,
		DebtPaid: it.DebtPaid, Merit: it.Merit, At: parseTime(it.At), Reversed: it.Reversed,
		ActivityID: it.ActivityID, Revision: it.Revision, Minutes: it.Minutes, Placeholder: it.Placeholder, Settled: it.Settled}
}

// ApplyAward writes the profile and the award's ledger entry in one TransactWriteItems (2 items): the
// entry's key is the award's identity, so no other item records it.
func (s *Store) ApplyAward(ctx context.Context, a points.Award, p points.Profile, prev int64, e points.Entry) error {
	prof, err := s.profilePut(p, prev, touched(p, e.At))
	if err != nil {
		return err
	}
	it := s.ledgerItem(p.Sub, e)
	it.Rule, it.Points, it.Granted, it.DebtPaid, it.Merit = a.Rule, a.Points, a.Granted, a.DebtPaid, a.Merit
	it.Revision, it.Minutes = a.Revision, a.Minutes
	led, err := s.putItem(it, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.runProfileTx(ctx, "apply award", []types.TransactWriteItem{prof, led}, 1)
}

// ApplyReversal marks the award's entry reversed (once; the mark changes no delta and no projected
// attribute) and writes profile and the reversal's ledger entry.
func (s *Store) ApplyReversal(ctx context.Context, a points.Award, p points.Profile, prev int64, e points.Entry) error {
	mark := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: awardKey(a),
		UpdateExpression:          aws.String("SET reversed = :t"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND attribute_not_exists(reversed)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	}}
	prof, err := s.profilePut(p, prev, touched(p, e.At))
	if err != nil {
		return err
	}
	led, err := s.ledgerPut(p.Sub, e)
	if err != nil {
		return err
	}
	return s.runProfileTx(ctx, "apply reversal", []types.TransactWriteItem{mark, prof, led}, 0)
}

// runProfileTx sends a profile transaction. A failed condition on the item at identity (-1: none) means
// the work was done before; on another item, that the profile changed meanwhile.
func (s *Store) runProfileTx(ctx context.Context, op string, items []types.TransactWriteItem, identity int) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancellationReasons(err); reasons != nil {
		if identity >= 0 && identity < len(reasons) && aws.ToString(reasons[identity].Code) == "ConditionalCheckFailed" {
			return points.ErrAlreadyApplied
		}
		for _, r := range reasons {
			if aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return points.ErrVersionConflict
			}
		}
	}
	if err != nil {
		return translate(op, err)
	}
	return nil
}

// PutPlaceholder writes a reversed, empty award at a's ledger entry key unless the identity is taken: an
// entry of delta 0 with no KPI index keys, left out of the ledger's listing.
func (s *Store) PutPlaceholder(ctx context.Context, a points.Award) error {
	it := ledgerItem{PK: userPK(a.Sub), SK: ledgerSK(a.At, a.EntryID()), Type: "ledger", ID: a.EntryID(), Sub: a.Sub, At: timeKey(a.At),
		Kind: points.KindReversal, ReportID: a.ReportID, Note: "report revoked before its award", Rule: a.Rule, Reversed: true, Placeholder: true}
	if a.Rule == points.RuleVolunteer {
		it.Kind, it.ActivityID, it.Revision, it.Note = points.KindVolunteerReversal, a.ActivityID, a.Revision, "service hours withdrawn before their award"
	}
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if _, ok := conditionFailed(err); ok {
		return points.ErrAlreadyApplied
	}
	if err != nil {
		return translate("put award placeholder", err)
	}
	return nil
}

// SettlePlaceholder marks the placeholder at a's identity settled (1 UpdateItem of an item in no index's
// projection but its keys': no index write).
func (s *Store) SettlePlaceholder(ctx context.Context, a points.Award) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: awardKey(a),
		UpdateExpression:          aws.String("SET settled = :t"),
		ConditionExpression:       aws.String("placeholder = :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}},
	})
	if _, ok := conditionFailed(err); ok {
		return fmt.Errorf("settle award %s: no placeholder at its identity", a.ID())
	}
	if err != nil {
		return translate("settle award placeholder", err)
	}
	return nil
}

// Awards reads the award entries at keys with strongly consistent BatchGetItem calls.
func (s *Store) Awards(ctx context.Context, keys []points.Award) ([]points.Award, error) {
	ks := make([]map[string]types.AttributeValue, len(keys))
	for i, a := range keys {
		ks[i] = awardKey(a)
	}
	var items []ledgerItem
	if err := s.batchGetAll(ctx, "read awards", ks, &items); err != nil {
		return nil, err
	}
	res := make([]points.Award, 0, len(items))
	var legacy []map[string]types.AttributeValue
	reversed := map[string]bool{} // a legacy award's entry marked reversed since, by its identity
	for _, it := range items {
		if it.Rule == "" && !it.Placeholder {
			// An entry written before the entry was the award's record: what the award granted, and
			// whether it was reversed then, are on its AWARD# item; a reversal since marks the entry.
			legacy = append(legacy, map[string]types.AttributeValue{"pk": str("AWARD#" + it.ReportID), "sk": str(strings.TrimPrefix(it.ID, "award-"+it.ReportID+"#"))})
			reversed[it.ID] = it.Reversed
			continue
		}
		res = append(res, it.award())
	}
	if len(legacy) > 0 {
		var old []legacyAwardItem
		if err := s.batchGetAll(ctx, "read legacy awards", legacy, &old); err != nil {
			return nil, err
		}
		for _, it := range old {
			a := it.Award
			a.Reversed = a.Reversed || reversed[a.EntryID()]
			res = append(res, a)
		}
	}
	return res, nil
}

// legacyAwardItem is an award's record as written before its ledger entry was (pk AWARD#<report>, sk
// <sub>#<rule>): a reversal still finds what such an award granted, and that it was reversed.
type legacyAwardItem struct {
	points.Award
}

// batchGetAll reads the items at keys (each once; 100 keys a call, unprocessed keys asked again) with
// strongly consistent reads, and decodes them into out (a pointer to a slice).
func (s *Store) batchGetAll(ctx context.Context, op string, keys []map[string]types.AttributeValue, out any) error {
	seen := map[string]bool{}
	var unique []map[string]types.AttributeValue
	for _, k := range keys {
		id := stringAttr(k, "pk") + "\x00" + stringAttr(k, "sk")
		if !seen[id] { // BatchGetItem refuses a request that names a key twice
			seen[id] = true
			unique = append(unique, k)
		}
	}
	var raw []map[string]types.AttributeValue
	for start := 0; start < len(unique); start += 100 {
		req := map[string]types.KeysAndAttributes{s.table: {Keys: unique[start:min(start+100, len(unique))], ConsistentRead: aws.Bool(true)}}
		for len(req) > 0 {
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return translate(op, err)
			}
			raw = append(raw, res.Responses[s.table]...)
			req = res.UnprocessedKeys
		}
	}
	if err := attributevalue.UnmarshalListOfMaps(raw, out); err != nil {
		return fmt.Errorf("%s: decode: %w", op, err)
	}
	return nil
}

// DuplicateReporters queries gsi4 for the reports linked as duplicates of reportID.
func (s *Store) DuplicateReporters(ctx context.Context, reportID string) ([]points.DuplicateRef, error) {
	var res []points.DuplicateRef
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi4"), KeyConditionExpression: aws.String("gsi4pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("DUPOF#" + reportID)},
	}
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query duplicates", err)
		}
		var items []reportItem
		if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
			return nil, fmt.Errorf("decode duplicates: %w", err)
		}
		for _, it := range items {
			res = append(res, points.DuplicateRef{ReportID: it.ID, ReporterSub: it.ReporterSub})
		}
		if out.LastEvaluatedKey == nil {
			return res, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Ledger lists a user's entries newest first.
func (s *Store) Ledger(ctx context.Context, sub string, limit int, cursor string) ([]points.Entry, string, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":p": str("LEDGER#")},
		// An award's placeholder (a revocation delivered before its resolution) is an identity, not a
		// line of the citizen's history; a page with one is a line short.
		FilterExpression: aws.String("attribute_not_exists(placeholder)"),
		ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), "LEDGER#") {
			return nil, "", report.ErrInvalidCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str(string(b))}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query ledger", err)
	}
	var items []ledgerItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("decode ledger: %w", err)
	}
	res := make([]points.Entry, len(items))
	for i, it := range items {
		res[i] = points.Entry{ID: it.ID, At: parseTime(it.At), Delta: it.Delta, Kind: it.Kind, ReportID: it.ReportID, RedemptionID: it.RedemptionID, ActivityID: it.ActivityID, Note: it.Note}
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		if v, ok := lek["sk"].(*types.AttributeValueMemberS); ok {
			next = base64.RawURLEncoding.EncodeToString([]byte(v.Value))
		}
	}
	return res, next, nil
}

// TouchedUsers lists the users with ledger entries timed on day, from the entries' KPI index partition
// (gsi3 POINTS#<day>; the table key, projected into every index, names the user): every change of a
// balance writes an entry, so these are the users whose balance changed. A user with several entries may
// be listed more than once (on different pages); the reconciler checks each once.
func (s *Store) TouchedUsers(ctx context.Context, day string, limit int, cursor string) ([]string, string, error) {
	gpk := "POINTS#" + day
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi3"), KeyConditionExpression: aws.String("gsi3pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk)},
		ProjectionExpression:      aws.String("pk"), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, gpk, "USER#", ledgerPrefix)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "gsi3pk": str(c.GPK), "gsi3sk": str(c.GSK)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query touched users", err)
	}
	subs := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if v, ok := it["pk"].(*types.AttributeValueMemberS); ok {
			if sub, ok := strings.CutPrefix(v.Value, "USER#"); ok && (len(subs) == 0 || subs[len(subs)-1] != sub) {
				subs = append(subs, sub)
			}
		}
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		b, _ := json.Marshal(queueCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk"), GPK: stringAttr(lek, "gsi3pk"), GSK: stringAttr(lek, "gsi3sk")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return subs, next, nil
}

// LedgerSum adds up a user's ledger deltas, a page at a time, reading only the delta attribute.
func (s *Store) LedgerSum(ctx context.Context, sub string) (int64, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":p": str("LEDGER#")},
		ProjectionExpression:      aws.String("delta"), ConsistentRead: aws.Bool(true),
	}
	var sum int64
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, translate("sum ledger", err)
		}
		for _, it := range out.Items {
			if v, ok := it["delta"].(*types.AttributeValueMemberN); ok {
				n, err := strconv.ParseInt(v.Value, 10, 64)
				if err != nil {
					return 0, fmt.Errorf("ledger delta %q: %w", v.Value, err)
				}
				sum += n
			}
		}
		if out.LastEvaluatedKey == nil {
			return sum, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Repair writes the corrected profile and the reconcile entry.
func (s *Store) Repair(ctx context.Context, p points.Profile, prev int64, e points.Entry) error {
	prof, err := s.profilePut(p, prev, touched(p, e.At))
	if err != nil {
		return err
	}
	led, err := s.ledgerPut(p.Sub, e)
	if err != nil {
		return err
	}
	return s.runProfileTx(ctx, "repair balance", []types.TransactWriteItem{prof, led}, -1)
}

const pointRulesPK = "CONFIG#POINTS"

// PointRules returns the saved rules; ok is false when none were saved.
func (s *Store) PointRules(ctx context.Context) (points.Rules, bool, error) {
	r, err := getDoc[points.Rules](ctx, s, pointRulesPK, "RULES")
	if err != nil {
		if errors.Is(err, dispatch.ErrConfigMissing) {
			return points.Rules{}, false, nil
		}
		return points.Rules{}, false, err
	}
	return r, true, nil
}

// PutPointRules saves the rules.
func (s *Store) PutPointRules(ctx context.Context, r points.Rules) error {
	return putDoc(ctx, s, pointRulesPK, "RULES", r)
}
