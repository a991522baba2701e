package dynamostore

import (
	"context"
	"encoding/base64"
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
//	  gsi2         gsi2pk=TOUCHED#<local day>  gsi2sk=<sub>   (the reconciler's input: last day written)
//	  gsi4         gsi4pk=REGISTERED#<local day> gsi4sk=<sub> (KPI: registered users)
//	ledger entry   pk=USER#<sub>          sk=LEDGER#<at>#<entry id>   (append-only)
//	  gsi3         gsi3pk=POINTS#<local day>  gsi3sk=<at>#<sub>#<id>   (KPI: points issued/redeemed)
//	award          pk=AWARD#<report>      sk=<sub>#<rule>   (its identity; attribute_not_exists)
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
	GSI2PK           string               `dynamodbav:"gsi2pk"`
	GSI2SK           string               `dynamodbav:"gsi2sk"`
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
		ValidReports: p.ValidReports, Honors: honors, LifetimeEarned: p.LifetimeEarned, LifetimeRedeemed: p.LifetimeRedeemed,
		Debt: p.Debt, Version: p.Version, Day: p.Day, DayEarned: p.DayEarned, Month: p.Month, MonthEarned: p.MonthEarned,
		CreatedAt: createdAt, GSI2PK: "TOUCHED#" + s.dayKey(at), GSI2SK: p.Sub,
		GSI4PK: "REGISTERED#" + s.dayKey(created), GSI4SK: p.Sub,
	}
}

func (it profileItem) profile() points.Profile {
	return points.Profile{Sub: it.Sub, Balance: it.Balance, Merit: it.Merit, ValidReports: it.ValidReports, Honors: it.Honors,
		LifetimeEarned: it.LifetimeEarned, LifetimeRedeemed: it.LifetimeRedeemed, Debt: it.Debt, Version: it.Version,
		Day: it.Day, DayEarned: it.DayEarned, Month: it.Month, MonthEarned: it.MonthEarned, CreatedAt: parseTime(it.CreatedAt)}
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

// touched is the time a profile write counts for: the service's clock, or the entry's time.
func touched(p points.Profile, fallback time.Time) time.Time {
	if !p.TouchedAt.IsZero() {
		return p.TouchedAt
	}
	return fallback
}

// profilePut is the transaction item writing p if the stored version is still prev. at is when the write
// happens (not the award's own time): the reconciler looks at users touched on the days it checks.
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
	Note         string `dynamodbav:"note,omitempty"`
	GSI3PK       string `dynamodbav:"gsi3pk"`
	GSI3SK       string `dynamodbav:"gsi3sk"`
}

func (s *Store) ledgerPut(sub string, e points.Entry) (types.TransactWriteItem, error) {
	at := timeKey(e.At)
	return s.putItem(ledgerItem{
		PK: userPK(sub), SK: "LEDGER#" + at + "#" + e.ID, Type: "ledger", ID: e.ID, Sub: sub, At: at, Delta: e.Delta,
		Kind: e.Kind, ReportID: e.ReportID, RedemptionID: e.RedemptionID, Note: e.Note,
		GSI3PK: "POINTS#" + s.dayKey(e.At), GSI3SK: at + "#" + sub + "#" + e.ID,
	}, "attribute_not_exists(pk)")
}

type awardItem struct {
	PK   string `dynamodbav:"pk"`
	SK   string `dynamodbav:"sk"`
	Type string `dynamodbav:"type"`
	points.Award
}

// ApplyAward writes award, profile and ledger entry in one TransactWriteItems (3 items).
func (s *Store) ApplyAward(ctx context.Context, a points.Award, p points.Profile, prev int64, e points.Entry) error {
	award, err := s.putItem(awardItem{PK: "AWARD#" + a.ReportID, SK: a.Sub + "#" + a.Rule, Type: "award", Award: a}, "attribute_not_exists(pk)")
	if err != nil {
		return err
	}
	return s.profileTransaction(ctx, "apply award", award, p, prev, e)
}

// ApplyReversal marks the award reversed (once) and writes profile and ledger entry.
func (s *Store) ApplyReversal(ctx context.Context, a points.Award, p points.Profile, prev int64, e points.Entry) error {
	mark := types.TransactWriteItem{Update: &types.Update{
		TableName: &s.table, Key: map[string]types.AttributeValue{"pk": str("AWARD#" + a.ReportID), "sk": str(a.Sub + "#" + a.Rule)},
		UpdateExpression:          aws.String("SET Reversed = :t"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND Reversed = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false}},
	}}
	return s.profileTransaction(ctx, "apply reversal", mark, p, prev, e)
}

// profileTransaction writes first (the identity item), the profile and the ledger entry. A failed
// condition on the first item means the work was done; on the profile, that it changed meanwhile.
func (s *Store) profileTransaction(ctx context.Context, op string, first types.TransactWriteItem, p points.Profile, prev int64, e points.Entry) error {
	prof, err := s.profilePut(p, prev, touched(p, e.At))
	if err != nil {
		return err
	}
	led, err := s.ledgerPut(p.Sub, e)
	if err != nil {
		return err
	}
	return s.runProfileTx(ctx, op, []types.TransactWriteItem{first, prof, led})
}

func (s *Store) runProfileTx(ctx context.Context, op string, items []types.TransactWriteItem) error {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if reasons := cancellationReasons(err); reasons != nil {
		for i, r := range reasons {
			if aws.ToString(r.Code) != "ConditionalCheckFailed" {
				continue
			}
			if i == 0 && len(items) == 3 {
				return points.ErrAlreadyApplied
			}
			return points.ErrVersionConflict
		}
	}
	if err != nil {
		return translate(op, err)
	}
	return nil
}

// PutPlaceholder writes a reversed, empty award under a's identity unless the identity is taken.
func (s *Store) PutPlaceholder(ctx context.Context, a points.Award) error {
	item, err := attributevalue.MarshalMap(awardItem{PK: "AWARD#" + a.ReportID, SK: a.Sub + "#" + a.Rule, Type: "award", Award: a})
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

// Awards returns a report's awards with one Query.
func (s *Store) Awards(ctx context.Context, reportID string) ([]points.Award, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("AWARD#" + reportID)}, ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, translate("query awards", err)
	}
	var items []awardItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("decode awards: %w", err)
	}
	res := make([]points.Award, len(items))
	for i, it := range items {
		res[i] = it.Award
	}
	return res, nil
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
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
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
		res[i] = points.Entry{ID: it.ID, At: parseTime(it.At), Delta: it.Delta, Kind: it.Kind, ReportID: it.ReportID, RedemptionID: it.RedemptionID, Note: it.Note}
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		if v, ok := lek["sk"].(*types.AttributeValueMemberS); ok {
			next = base64.RawURLEncoding.EncodeToString([]byte(v.Value))
		}
	}
	return res, next, nil
}

// TouchedUsers lists users whose profile was last written on day.
func (s *Store) TouchedUsers(ctx context.Context, day string, limit int, cursor string) ([]string, string, error) {
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("TOUCHED#" + day)},
		Limit:                     aws.Int32(int32(limit)),
	}
	if cursor != "" {
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(userPK(cursor)), "sk": str("PROFILE"), "gsi2pk": str("TOUCHED#" + day), "gsi2sk": str(cursor)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query touched users", err)
	}
	subs := make([]string, 0, len(out.Items))
	for _, it := range out.Items {
		if v, ok := it["gsi2sk"].(*types.AttributeValueMemberS); ok {
			subs = append(subs, v.Value)
		}
	}
	next := ""
	if out.LastEvaluatedKey != nil && len(subs) > 0 {
		next = subs[len(subs)-1]
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
	return s.runProfileTx(ctx, "repair balance", []types.TransactWriteItem{prof, led})
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
