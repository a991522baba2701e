package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Builders' home: job fairs, transfers and consultations (README "Builders' home"):
//
//	fair          pk=FAIR#<id>      sk=FAIR                     gsi1 FAIRS/<start>#<id>
//	registration  pk=FAIR#<id>      sk=REG#<sub>                gsi2 WORKERFAIRS#<sub>/<start>#<fairId>
//	transfer      pk=TRANSFER#<id>  sk=TRANSFER                 gsi1 TRANSFERS/<date>#<id>
//	desk          pk=DESK#<id>      sk=DESK                     gsi1 DESKS/<kind>#<id>
//	slot          pk=DESK#<id>      sk=SLOT#<start>#<slotId>
//	booking       pk=DESK#<id>      sk=BOOK#<slotId>#<sub>      gsi2 WORKERBOOKS#<sub>/<start>#<slotId>
//
// Counters (a fair's registered and checkedIn, a slot's booked) change only in a transaction with the
// item they count, conditional on the capacity; every KPI record is builderRecordPut (once per event).

func fairPK(id string) string          { return "FAIR#" + id }
func regSK(sub string) string          { return "REG#" + sub }
func transferPK(id string) string      { return "TRANSFER#" + id }
func deskPK(id string) string          { return "DESK#" + id }
func slotSK(sl builders.Slot) string   { return "SLOT#" + timeKey(sl.Start) + "#" + sl.ID }
func bookSK(slotID, sub string) string { return "BOOK#" + slotID + "#" + sub }

// fairMaxRounds bounds the retries of a write that lost a race before it answers contention.
const fairMaxRounds = 50

type fairItem struct {
	PK         string    `dynamodbav:"pk"`
	SK         string    `dynamodbav:"sk"`
	Type       string    `dynamodbav:"type"`
	ID         string    `dynamodbav:"id"`
	Title      string    `dynamodbav:"title"`
	Start      string    `dynamodbav:"start"`
	End        string    `dynamodbav:"end"`
	Place      placeAttr `dynamodbav:"place"`
	Employers  []string  `dynamodbav:"employers,stringset,omitempty"`
	Staff      []string  `dynamodbav:"staff,stringset,omitempty"`
	Capacity   int       `dynamodbav:"capacity"`
	Registered int       `dynamodbav:"registered"`
	CheckedIn  int       `dynamodbav:"checkedIn"`
	FStatus    string    `dynamodbav:"fstatus"`
	CreatedAt  string    `dynamodbav:"createdAt"`
	Secret     []byte    `dynamodbav:"secret,omitempty"`
	BodyHash   string    `dynamodbav:"bodyHash,omitempty"`
	GSI1PK     string    `dynamodbav:"gsi1pk"`
	GSI1SK     string    `dynamodbav:"gsi1sk"`
}

func (it fairItem) fair() builders.Fair {
	f := builders.Fair{ID: it.ID, Title: it.Title, Start: parseTime(it.Start), End: parseTime(it.End),
		Place:     volunteer.Place{Name: it.Place.Name, Lat: it.Place.Lat, Lng: it.Place.Lng, RadiusM: it.Place.RadiusM},
		Employers: nonNil(it.Employers), Staff: nonNil(it.Staff), Capacity: it.Capacity, Registered: it.Registered,
		CheckedIn: it.CheckedIn, Status: it.FStatus, CreatedAt: parseTime(it.CreatedAt), Secret: it.Secret}
	if it.Place.Geometry != "" {
		f.Place.Geometry = json.RawMessage(it.Place.Geometry)
	}
	return f
}

type regItem struct {
	PK          string  `dynamodbav:"pk"`
	SK          string  `dynamodbav:"sk"`
	Type        string  `dynamodbav:"type"`
	FairID      string  `dynamodbav:"fairId"`
	Sub         string  `dynamodbav:"sub"`
	RStatus     string  `dynamodbav:"rstatus"`
	At          string  `dynamodbav:"at"`
	Start       string  `dynamodbav:"start"`
	CheckedInAt string  `dynamodbav:"checkedInAt,omitempty"`
	Method      string  `dynamodbav:"method,omitempty"`
	UsedSteps   []int64 `dynamodbav:"usedSteps,numberset,omitempty"`
	GSI2PK      string  `dynamodbav:"gsi2pk"`
	GSI2SK      string  `dynamodbav:"gsi2sk"`
}

func (it regItem) registration() builders.Registration {
	r := builders.Registration{FairID: it.FairID, Sub: it.Sub, Status: it.RStatus, At: parseTime(it.At),
		Method: it.Method, UsedSteps: it.UsedSteps, Start: parseTime(it.Start)}
	if it.CheckedInAt != "" {
		r.CheckedInAt = parseTime(it.CheckedInAt)
	}
	return r
}

// fairTransact runs a transaction and answers which of its items' conditions failed (nil map: it
// succeeded); any other error is translated.
func (s *Store) fairTransact(ctx context.Context, op string, items []types.TransactWriteItem) (map[int]bool, error) {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if err == nil {
		return nil, nil
	}
	if f := failed(err); len(f) > 0 {
		return f, nil
	}
	return nil, translate(op, err)
}

// PublishFair writes the fair and its `fair` record (N = its employers) in one transaction.
func (s *Store) PublishFair(ctx context.Context, f builders.Fair, bodyHash string) (builders.Fair, bool, error) {
	start := timeKey(f.Start)
	it := fairItem{PK: fairPK(f.ID), SK: "FAIR", Type: "fair", ID: f.ID, Title: f.Title, Start: start, End: timeKey(f.End),
		Place:     placeAttr{Name: f.Place.Name, Lat: f.Place.Lat, Lng: f.Place.Lng, RadiusM: f.Place.RadiusM, Geometry: string(f.Place.Geometry)},
		Employers: f.Employers, Staff: f.Staff, Capacity: f.Capacity, FStatus: f.Status, CreatedAt: timeKey(f.CreatedAt),
		Secret: f.Secret, BodyHash: bodyHash, GSI1PK: "FAIRS", GSI1SK: start + "#" + f.ID}
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		return builders.Fair{}, false, fmt.Errorf("publish fair: encode: %w", err)
	}
	fl, err := s.fairTransact(ctx, "publish fair", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.builderRecordPut(builders.Record{ID: f.ID, Kind: builders.RecFair, N: len(f.Employers), Ref: f.ID, At: f.CreatedAt}),
	})
	if err != nil {
		return builders.Fair{}, false, err
	}
	if fl == nil {
		f.Employers, f.Staff = nonNil(f.Employers), nonNil(f.Staff)
		return f, true, nil
	}
	var old fairItem
	ok, err := s.getItem(ctx, "read fair "+f.ID, fairPK(f.ID), "FAIR", &old)
	if err != nil {
		return builders.Fair{}, false, err
	}
	if !ok || old.BodyHash != bodyHash {
		return builders.Fair{}, false, idem.ErrKeyReused
	}
	return old.fair(), false, nil
}

// Fair returns a fair with its secret.
func (s *Store) Fair(ctx context.Context, id string) (builders.Fair, error) {
	var it fairItem
	ok, err := s.getItem(ctx, "get fair", fairPK(id), "FAIR", &it)
	if err != nil {
		return builders.Fair{}, err
	}
	if !ok || it.Type != "fair" {
		return builders.Fair{}, builders.ErrFairNotFound
	}
	return it.fair(), nil
}

// Fairs returns up to limit fairs starting at or after from (one Query of gsi1 FAIRS).
func (s *Store) Fairs(ctx context.Context, from time.Time, limit int) ([]builders.Fair, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk AND gsi1sk >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("FAIRS"), ":from": str(timeKey(from))},
		Limit:                     aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate("list fairs", err)
	}
	var items []fairItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("list fairs: decode: %w", err)
	}
	fairs := make([]builders.Fair, 0, len(items))
	for _, it := range items {
		fairs = append(fairs, it.fair())
	}
	return fairs, nil
}

// Register: one transaction [the fair's registered + 1 IF open, not over and registered < capacity; the
// registration IF there is none or it is cancelled].
func (s *Store) Register(ctx context.Context, f builders.Fair, sub string, at time.Time) (builders.Registration, bool, error) {
	start := timeKey(f.Start)
	reg := regItem{PK: fairPK(f.ID), SK: regSK(sub), Type: "fair_registration", FairID: f.ID, Sub: sub,
		RStatus: builders.RegRegistered, At: timeKey(at), Start: start, GSI2PK: "WORKERFAIRS#" + sub, GSI2SK: start + "#" + f.ID}
	m, err := attributevalue.MarshalMap(reg)
	if err != nil {
		return builders.Registration{}, false, fmt.Errorf("register: encode: %w", err)
	}
	fl, err := s.fairTransact(ctx, "register for fair", []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(fairPK(f.ID), "FAIR"),
			UpdateExpression:         aws.String("SET registered = registered + :one"),
			ConditionExpression:      aws.String("fstatus = :open AND registered < #capacity AND #end > :now"),
			ExpressionAttributeNames: map[string]string{"#capacity": "capacity", "#end": "end"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":open": str(builders.FairOpen), ":now": str(timeKey(at))}}},
		{Put: &types.Put{TableName: &s.table, Item: m,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR rstatus = :cancelled"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":cancelled": str(builders.RegCancelled)}}},
	})
	switch {
	case err != nil:
		return builders.Registration{}, false, err
	case fl == nil:
		return reg.registration(), true, nil
	case fl[1]:
		r, err := s.Registration(ctx, f.ID, sub)
		return r, false, err
	}
	cur, err := s.Fair(ctx, f.ID)
	if err != nil {
		return builders.Registration{}, false, err
	}
	if cur.Status == builders.FairOpen && cur.End.After(at) && cur.Registered >= cur.Capacity {
		return builders.Registration{}, false, builders.ErrFairFull
	}
	return builders.Registration{}, false, builders.ErrFairClosed
}

// Registration returns sub's registration of a fair.
func (s *Store) Registration(ctx context.Context, fairID, sub string) (builders.Registration, error) {
	var it regItem
	ok, err := s.getItem(ctx, "get registration", fairPK(fairID), regSK(sub), &it)
	if err != nil {
		return builders.Registration{}, err
	}
	if !ok {
		return builders.Registration{}, builders.ErrNotRegistered
	}
	return it.registration(), nil
}

// CancelRegistration: one transaction [the registration cancelled IF registered and not checked in; the
// fair's registered − 1].
func (s *Store) CancelRegistration(ctx context.Context, fairID, sub string) (builders.Registration, error) {
	for range fairMaxRounds {
		r, err := s.Registration(ctx, fairID, sub)
		if err != nil || r.Status == builders.RegCancelled {
			return r, err
		}
		if !r.CheckedInAt.IsZero() {
			return builders.Registration{}, builders.ErrCheckedInNoLeave
		}
		fl, err := s.fairTransact(ctx, "cancel registration", []types.TransactWriteItem{
			{Update: &types.Update{TableName: &s.table, Key: keyOf(fairPK(fairID), regSK(sub)),
				UpdateExpression:    aws.String("SET rstatus = :cancelled"),
				ConditionExpression: aws.String("rstatus = :registered AND attribute_not_exists(checkedInAt)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":cancelled": str(builders.RegCancelled), ":registered": str(builders.RegRegistered)}}},
			{Update: &types.Update{TableName: &s.table, Key: keyOf(fairPK(fairID), "FAIR"),
				UpdateExpression:          aws.String("SET registered = registered - :one"),
				ConditionExpression:       aws.String("registered > :zero"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":zero": num(0)}}},
		})
		if err != nil {
			return builders.Registration{}, err
		}
		if fl == nil {
			r.Status = builders.RegCancelled
			return r, nil
		}
		if fl[1] && !fl[0] {
			return builders.Registration{}, fmt.Errorf("cancel registration %s/%s: the fair counts no registration", fairID, sub)
		}
	}
	return builders.Registration{}, errContention("cancel registration")
}

// CheckInFair: one transaction [the registration's checkedInAt, method, usedSteps IF registered and
// attribute_not_exists(checkedInAt); the fair's checkedIn + 1; the fair_checkin record].
func (s *Store) CheckInFair(ctx context.Context, r builders.Registration, step int64) error {
	upd := "SET checkedInAt = :at, #method = :method"
	vals := map[string]types.AttributeValue{":at": str(timeKey(r.CheckedInAt)), ":method": str(r.Method),
		":registered": str(builders.RegRegistered)}
	if r.Method == builders.CheckinCode {
		upd += " ADD usedSteps :step"
		vals[":step"] = &types.AttributeValueMemberNS{Value: []string{strconv.FormatInt(step, 10)}}
	}
	fl, err := s.fairTransact(ctx, "check in at fair", []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(fairPK(r.FairID), regSK(r.Sub)),
			UpdateExpression: aws.String(upd), ConditionExpression: aws.String("rstatus = :registered AND attribute_not_exists(checkedInAt)"),
			ExpressionAttributeNames: map[string]string{"#method": "method"}, ExpressionAttributeValues: vals}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(fairPK(r.FairID), "FAIR"),
			UpdateExpression: aws.String("SET checkedIn = checkedIn + :one"), ConditionExpression: aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
		s.builderRecordPut(builders.Record{ID: r.FairID + "#" + r.Sub, Kind: builders.RecFairCheckin, N: 1, Sub: r.Sub,
			Ref: r.FairID, Detail: r.Method, At: r.CheckedInAt}),
	})
	if err != nil {
		return err
	}
	if fl != nil {
		return builders.ErrChanged
	}
	return nil
}

// tableCursor is a page's position in one partition: the last sort key read (client input, checked).
func tableCursor(lek map[string]types.AttributeValue) string {
	if lek == nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(stringAttr(lek, "sk")))
}

func decodeTableCursor(cursor, pk, skPrefix string) (map[string]types.AttributeValue, error) {
	if cursor == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	sk := string(b)
	if err != nil || len(sk) <= len(skPrefix) || len(sk) > 1024 || !strings.HasPrefix(sk, skPrefix) {
		return nil, builders.ErrInvalid.With("cursor is not one this list gave")
	}
	return keyOf(pk, sk), nil
}

// Registrations returns a page of a fair's registrations (one Query of the fair's partition).
func (s *Store) Registrations(ctx context.Context, fairID, cursor string, limit int) ([]builders.Registration, string, error) {
	start, err := decodeTableCursor(cursor, fairPK(fairID), "REG#")
	if err != nil {
		return nil, "", err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :reg)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(fairPK(fairID)), ":reg": str("REG#")},
		ExclusiveStartKey:         start, Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, "", translate("list registrations", err)
	}
	var items []regItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("list registrations: decode: %w", err)
	}
	regs := make([]builders.Registration, 0, len(items))
	for _, it := range items {
		regs = append(regs, it.registration())
	}
	return regs, tableCursor(out.LastEvaluatedKey), nil
}

// indexKeys reads up to limit table keys of a gsi2 partition, newest first.
func (s *Store) gsi2Keys(ctx context.Context, op, gpk string, limit int) ([]map[string]types.AttributeValue, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk)},
		ProjectionExpression:      aws.String("pk, sk"), ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate(op, err)
	}
	keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
	for _, it := range out.Items {
		keys = append(keys, keyOf(stringAttr(it, "pk"), stringAttr(it, "sk")))
	}
	return keys, nil
}

// MyFairs reads the keys of sub's registrations on gsi2 (latest fair first), then the items.
func (s *Store) MyFairs(ctx context.Context, sub string, limit int) ([]builders.Registration, error) {
	keys, err := s.gsi2Keys(ctx, "my fairs", "WORKERFAIRS#"+sub, limit)
	if err != nil || len(keys) == 0 {
		return []builders.Registration{}, err
	}
	var items []regItem
	if err := s.batchGetAll(ctx, "my fairs", keys, &items); err != nil {
		return nil, err
	}
	regs := make([]builders.Registration, 0, len(items))
	for _, it := range items {
		regs = append(regs, it.registration())
	}
	sortByStartDesc(regs, func(r builders.Registration) string { return timeKey(r.Start) + r.FairID })
	return regs, nil
}

func errContention(op string) error {
	return apperr.ErrContention.Wrap(fmt.Errorf("%s: %d rounds lost", op, fairMaxRounds))
}

// sortByStartDesc orders a list read by BatchGetItem (which answers in no order) latest first.
func sortByStartDesc[T any](xs []T, key func(T) string) {
	slices.SortFunc(xs, func(a, b T) int { return strings.Compare(key(b), key(a)) })
}

// fairBatch reads the items at keys (at most 100, none twice) in one strongly consistent BatchGetItem,
// asking again for unprocessed keys.
func (s *Store) fairBatch(ctx context.Context, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var raw []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for tries := 0; len(req) > 0; tries++ {
		if tries == 10 {
			return nil, translate(op, fmt.Errorf("keys left unprocessed after %d tries", tries))
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, translate(op, err)
		}
		raw = append(raw, out.Responses[s.table]...)
		req = out.UnprocessedKeys
		if len(req) > 0 {
			if err := pause(ctx, tries); err != nil {
				return nil, translate(op, err)
			}
		}
	}
	return raw, nil
}

// FairForWorker reads a fair, sub's registration (nil when none) and whether sub has a worker profile,
// in one BatchGetItem.
func (s *Store) FairForWorker(ctx context.Context, fairID, sub string) (builders.Fair, *builders.Registration, bool, error) {
	raw, err := s.fairBatch(ctx, "read fair and registration", []map[string]types.AttributeValue{
		keyOf(fairPK(fairID), "FAIR"), keyOf(fairPK(fairID), regSK(sub)), keyOf(workerPK(sub), "PROFILE")})
	if err != nil {
		return builders.Fair{}, nil, false, err
	}
	var f *builders.Fair
	var reg *builders.Registration
	worker := false
	for _, item := range raw {
		switch stringAttr(item, "type") {
		case "worker":
			worker = true
		case "fair":
			var it fairItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return builders.Fair{}, nil, false, fmt.Errorf("read fair %s: decode: %w", fairID, err)
			}
			v := it.fair()
			f = &v
		case "fair_registration":
			var it regItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return builders.Fair{}, nil, false, fmt.Errorf("read registration %s/%s: decode: %w", fairID, sub, err)
			}
			v := it.registration()
			reg = &v
		}
	}
	if f == nil {
		return builders.Fair{}, nil, false, builders.ErrFairNotFound
	}
	return *f, reg, worker, nil
}
