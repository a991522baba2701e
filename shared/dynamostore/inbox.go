package dynamostore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/notify"
	"github.com/civicsnap/civicsnap/shared/report"
)

// A user's notifications live in the user's own partition, USER#<sub>, sorted by time without any index
// entry: notices at NOTE#<id> (the id starts with the event's milliseconds), the settings at NOTIFY and
// each device at NOTIFY#DEV#<id>, so a Query of begins_with(sk, "NOTIFY") reads the settings with the
// devices and never a notice ("NOTE#" < "NOTIFY"). Every key names the caller's sub, so no request can
// reach another user's items: another's notice or device id is simply not found.

const (
	noticePrefix   = "NOTE#"
	settingsSK     = "NOTIFY"
	devicePrefix   = "NOTIFY#DEV#"
	noticeItemType = "notice"
)

func noticeKey(sub, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str(noticePrefix + id)}
}

// noticeItem is a notice as stored: small, no index keys, a TTL.
type noticeItem struct {
	PK             string   `dynamodbav:"pk"`
	SK             string   `dynamodbav:"sk"`
	Type           string   `dynamodbav:"type"`
	ID             string   `dynamodbav:"id"`
	Kind           string   `dynamodbav:"kind"`
	At             string   `dynamodbav:"at"`
	ReportID       string   `dynamodbav:"reportId,omitempty"`
	Category       string   `dynamodbav:"category,omitempty"`
	Dept           string   `dynamodbav:"dept,omitempty"`
	ProofPhotoKey  string   `dynamodbav:"proofPhotoKey,omitempty"`
	Points         int64    `dynamodbav:"points,omitempty"`
	Honors         []string `dynamodbav:"honors,omitempty"`
	RedemptionID   string   `dynamodbav:"redemptionId,omitempty"`
	ItemID         string   `dynamodbav:"itemId,omitempty"`
	PickupLocation string   `dynamodbav:"pickupLocation,omitempty"`
	ExpiresAt      string   `dynamodbav:"expiresAt,omitempty"`
	ReadAt         string   `dynamodbav:"readAt,omitempty"`
	PushedAt       string   `dynamodbav:"pushedAt,omitempty"`
	TTL            int64    `dynamodbav:"ttl"`
}

func (it noticeItem) notice() notify.Notice {
	n := notify.Notice{
		ID: it.ID, Kind: notify.Kind(it.Kind), At: parseTime(it.At), ReportID: it.ReportID, Category: it.Category,
		Dept: it.Dept, ProofPhotoKey: it.ProofPhotoKey, Points: it.Points, Honors: it.Honors,
		RedemptionID: it.RedemptionID, ItemID: it.ItemID, PickupLocation: it.PickupLocation, Read: it.ReadAt != "",
	}
	if it.ExpiresAt != "" {
		t := parseTime(it.ExpiresAt)
		n.ExpiresAt = &t
	}
	return n
}

// PutNotice writes n unless its key is taken (a redelivery): one conditional PutItem, which returns the
// stored notice when refused, so a redelivery costs no read.
func (s *Store) PutNotice(ctx context.Context, n notify.Notice, expires time.Time) (created, pushed bool, err error) {
	it := noticeItem{
		PK: userPK(n.Sub), SK: noticePrefix + n.ID, Type: noticeItemType, ID: n.ID, Kind: string(n.Kind), At: timeKey(n.At),
		ReportID: n.ReportID, Category: n.Category, Dept: n.Dept, ProofPhotoKey: n.ProofPhotoKey, Points: n.Points,
		Honors: n.Honors, RedemptionID: n.RedemptionID, ItemID: n.ItemID, PickupLocation: n.PickupLocation,
		TTL: expires.Unix(),
	}
	if n.ExpiresAt != nil {
		it.ExpiresAt = timeKey(*n.ExpiresAt)
	}
	av, err := attributevalue.MarshalMap(it)
	if err != nil {
		return false, false, fmt.Errorf("encode notice: %w", err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		_, pushed := ccf.Item["pushedAt"]
		return false, pushed, nil
	}
	if err != nil {
		return false, false, translate("put notice", err)
	}
	return true, false, nil
}

// Notices returns a page of sub's notices, newest first (one Query; notices past their TTL at now that
// DynamoDB has not yet deleted are left out). The cursor is the last notice's id.
func (s *Store) Notices(ctx context.Context, sub string, limit int, cursor string, now time.Time) ([]notify.Notice, string, error) {
	in := &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		FilterExpression:          aws.String("#ttl > :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":p": str(noticePrefix), ":now": num(now.Unix())},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !notify.ValidNoticeID(string(b)) {
			return nil, "", report.ErrInvalidCursor
		}
		in.ExclusiveStartKey = noticeKey(sub, string(b))
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query notices", err)
	}
	var items []noticeItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("decode notices: %w", err)
	}
	res := make([]notify.Notice, len(items))
	for i, it := range items {
		res[i] = it.notice()
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		if v, ok := lek["sk"].(*types.AttributeValueMemberS); ok {
			next = base64.RawURLEncoding.EncodeToString([]byte(strings.TrimPrefix(v.Value, noticePrefix)))
		}
	}
	return res, next, nil
}

// UnreadCount counts sub's notices after readThrough that are not marked read, reading at most max of
// them (one Query, Select COUNT: the items are read, and charged, but not returned).
func (s *Store) UnreadCount(ctx context.Context, sub, readThrough string, max int, now time.Time) (int, error) {
	lo := noticePrefix
	if readThrough != "" {
		lo = noticePrefix + readThrough + "~" // after the watermark itself
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND sk BETWEEN :lo AND :hi"),
		FilterExpression:          aws.String("attribute_not_exists(readAt) AND #ttl > :now"),
		ExpressionAttributeNames:  map[string]string{"#ttl": "ttl"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":lo": str(lo), ":hi": str(noticePrefix + "~"), ":now": num(now.Unix())},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(max)), Select: types.SelectCount,
	})
	if err != nil {
		return 0, translate("count unread notices", err)
	}
	return int(out.Count), nil
}

// MarkRead marks one notice read (again: no change); notification_not_found when sub has no such notice.
func (s *Store) MarkRead(ctx context.Context, sub, id string, at time.Time) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: noticeKey(sub, id),
		UpdateExpression:          aws.String("SET readAt = if_not_exists(readAt, :at)"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(timeKey(at))},
	})
	if _, ok := conditionFailed(err); ok {
		return notify.ErrNoticeNotFound
	}
	return translateErr("mark notice read", err)
}

// MarkReadThrough moves sub's read watermark forward to id (never back: an older mark is a no-op).
func (s *Store) MarkReadThrough(ctx context.Context, sub, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: settingsKey(sub),
		UpdateExpression:          aws.String("SET readThrough = :id, #type = :type"),
		ConditionExpression:       aws.String("attribute_not_exists(readThrough) OR readThrough < :id"),
		ExpressionAttributeNames:  map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":id": str(id), ":type": str("notifysettings")},
	})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	return translateErr("mark notices read", err)
}

func settingsKey(sub string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str(settingsSK)}
}

// settingsItem is the settings item; devices are items of their own.
type settingsItem struct {
	Push        map[string]bool `dynamodbav:"push,omitempty"`
	QuietStart  string          `dynamodbav:"quietStart,omitempty"`
	QuietEnd    string          `dynamodbav:"quietEnd,omitempty"`
	ReadThrough string          `dynamodbav:"readThrough,omitempty"`
}

type deviceItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Type      string `dynamodbav:"type"`
	ID        string `dynamodbav:"id"`
	Platform  string `dynamodbav:"platform"`
	Token     string `dynamodbav:"token"`
	UpdatedAt string `dynamodbav:"updatedAt"`
}

// Settings reads sub's settings and devices: one Query (zero values when there are none).
func (s *Store) Settings(ctx context.Context, sub string, consistent bool) (notify.UserSettings, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(userPK(sub)), ":p": str(settingsSK)},
		ConsistentRead:            aws.Bool(consistent),
	})
	if err != nil {
		return notify.UserSettings{}, translate("query notification settings", err)
	}
	var us notify.UserSettings
	for _, item := range out.Items {
		switch sk := stringAttr(item, "sk"); {
		case sk == settingsSK:
			var it settingsItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return us, fmt.Errorf("decode notification settings: %w", err)
			}
			if len(it.Push) > 0 {
				us.Preferences.Push = make(map[notify.Kind]bool, len(it.Push))
				for k, v := range it.Push {
					us.Preferences.Push[notify.Kind(k)] = v
				}
			}
			if it.QuietStart != "" {
				us.Preferences.QuietHours = &notify.QuietHours{Start: it.QuietStart, End: it.QuietEnd}
			}
			us.ReadThrough = it.ReadThrough
		case strings.HasPrefix(sk, devicePrefix):
			var it deviceItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return us, fmt.Errorf("decode device: %w", err)
			}
			us.Devices = append(us.Devices, notify.Device{ID: it.ID, Platform: notify.Platform(it.Platform), Token: it.Token, UpdatedAt: parseTime(it.UpdatedAt)})
		}
	}
	return us, nil
}

// PutPreferences replaces sub's preferences (the read watermark stays).
func (s *Store) PutPreferences(ctx context.Context, sub string, p notify.Preferences) error {
	push := make(map[string]types.AttributeValue, len(p.Push))
	for k, v := range p.Push {
		push[string(k)] = &types.AttributeValueMemberBOOL{Value: v}
	}
	set := "SET #type = :type, push = :push"
	vals := map[string]types.AttributeValue{":type": str("notifysettings"), ":push": &types.AttributeValueMemberM{Value: push}}
	if q := p.QuietHours; q != nil {
		set += ", quietStart = :qs, quietEnd = :qe"
		vals[":qs"], vals[":qe"] = str(q.Start), str(q.End)
	} else {
		set += " REMOVE quietStart, quietEnd"
	}
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: settingsKey(sub), UpdateExpression: aws.String(set),
		ExpressionAttributeNames: map[string]string{"#type": "type"}, ExpressionAttributeValues: vals,
	})
	return translateErr("put notification preferences", err)
}

// The device cap holds under concurrency: the settings item keeps the set of the user's device ids
// (`deviceIds`, a string set), and a device item is created only in a transaction with the ADD of its id
// to that set, conditional on the set having room or holding the id already. Two registrations at once
// serialise on the settings item (the loser of a conflict is refused whole: write_conflict), so the 11th
// device fails the condition however the calls interleave; a device is removed in a transaction with the
// DELETE of its id. Adding an id the set holds, or deleting one it lacks, changes nothing, so a transaction
// the SDK sends again after its answer was lost applies once (DynamoDB also answers a re-sent transaction
// from its ClientRequestToken; moto does not, and runs it again).

// deviceKey is the key of sub's device id.
func deviceKey(sub, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(userPK(sub)), "sk": str(devicePrefix + id)}
}

// deviceIDs is the one-element string set of id, for ADD and DELETE.
func deviceIDs(id string) *types.AttributeValueMemberSS {
	return &types.AttributeValueMemberSS{Value: []string{id}}
}

// PutDevice registers (or updates) a device. A device sub has already is replaced in place: one PutItem
// conditional on its existence (1 write unit; an app refreshing its token on every start pays this). A new
// one is one transaction of the device's Put and the settings item's ADD (2 items, 4 write units), after
// the refused PutItem (1 unit): too_many_devices when sub has notify.MaxDevices others.
func (s *Store) PutDevice(ctx context.Context, sub string, d notify.Device) error {
	av, err := attributevalue.MarshalMap(deviceItem{
		PK: userPK(sub), SK: devicePrefix + d.ID, Type: "device", ID: d.ID, Platform: string(d.Platform), Token: d.Token, UpdatedAt: timeKey(d.UpdatedAt),
	})
	if err != nil {
		return fmt.Errorf("encode device: %w", err)
	}
	// A resent replacement sets the same values; a device removed meanwhile fails the condition and is
	// registered anew below.
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: av, ConditionExpression: aws.String("attribute_exists(pk)")})
	if _, ok := conditionFailed(err); !ok {
		return translateErr("replace device", err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{
			TableName: &s.table, Key: settingsKey(sub),
			UpdateExpression:          aws.String("SET #type = :type ADD deviceIds :id"),
			ConditionExpression:       aws.String("attribute_not_exists(deviceIds) OR size(deviceIds) < :max OR contains(deviceIds, :one)"),
			ExpressionAttributeNames:  map[string]string{"#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":type": str("notifysettings"), ":id": deviceIDs(d.ID), ":one": str(d.ID), ":max": num(notify.MaxDevices)},
		}},
		{Put: &types.Put{TableName: &s.table, Item: av}},
	}})
	if reasons := cancellationReasons(err); len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return notify.ErrTooManyDevices
	}
	return translateErr("register device", err)
}

// DeleteDevice removes a device and its id from the settings item's set (one transaction, 4 write units);
// device_not_found when sub has none by that id. When an earlier attempt of the call went unanswered, a
// device found gone was removed by it: that is no error.
func (s *Store) DeleteDevice(ctx context.Context, sub, id string) error {
	var watch attempts
	err := s.removeDevice(ctx, sub, id, "attribute_exists(pk)", nil, &watch)
	if errors.Is(err, errDeviceCondition) {
		if watch.lost.Load() {
			return nil
		}
		return notify.ErrDeviceNotFound
	}
	return err
}

// ForgetDevice removes sub's device id only while it has token (one transaction with the settings item's
// set, 4 write units): a device registered again with another token since is kept, and one already gone
// is no error.
func (s *Store) ForgetDevice(ctx context.Context, sub, id, token string) error {
	err := s.removeDevice(ctx, sub, id, "#token = :token", map[string]types.AttributeValue{":token": str(token)}, nil)
	if errors.Is(err, errDeviceCondition) {
		return nil
	}
	return err
}

// errDeviceCondition says a device removal's condition on the device item failed: nothing was written.
var errDeviceCondition = errors.New("device condition failed")

// removeDevice deletes sub's device id under cond (on the device item) together with the DELETE of its id
// from the settings item's set.
func (s *Store) removeDevice(ctx context.Context, sub, id, cond string, vals map[string]types.AttributeValue, watch *attempts) error {
	del := &types.Delete{TableName: &s.table, Key: deviceKey(sub, id), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals}
	if vals != nil {
		del.ExpressionAttributeNames = map[string]string{"#token": "token"}
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: del},
		{Update: &types.Update{
			TableName: &s.table, Key: settingsKey(sub), UpdateExpression: aws.String("SET #type = :type DELETE deviceIds :id"),
			ExpressionAttributeNames:  map[string]string{"#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":type": str("notifysettings"), ":id": deviceIDs(id)},
		}},
	}}
	var err error
	if watch != nil {
		_, err = s.db.TransactWriteItems(ctx, in, watch.option)
	} else {
		_, err = s.db.TransactWriteItems(ctx, in)
	}
	if reasons := cancellationReasons(err); len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		return errDeviceCondition
	}
	return translateErr("remove device", err)
}

// DeviceFromImage decodes a device item as a DynamoDB stream delivers it: its user and the device.
func DeviceFromImage(img map[string]types.AttributeValue) (string, notify.Device, error) {
	var it deviceItem
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return "", notify.Device{}, fmt.Errorf("decode device image: %w", err)
	}
	sub, ok := strings.CutPrefix(it.PK, userPK(""))
	if it.Type != "device" || !ok || sub == "" {
		return "", notify.Device{}, fmt.Errorf("image is a %q of %q, not a device", it.Type, it.PK)
	}
	return sub, notify.Device{ID: it.ID, Platform: notify.Platform(it.Platform), Token: it.Token, UpdatedAt: parseTime(it.UpdatedAt)}, nil
}

// ClaimPush marks a notice pushed by claim unless another claim has. The same claim sent again (the SDK's
// re-send of a claim whose answer was lost) succeeds again, since it sets the same value.
func (s *Store) ClaimPush(ctx context.Context, sub, id, claim string) (bool, error) {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: noticeKey(sub, id),
		UpdateExpression:          aws.String("SET pushedAt = :at"),
		ConditionExpression:       aws.String("attribute_exists(pk) AND (attribute_not_exists(pushedAt) OR pushedAt = :at)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(claim)},
	})
	if _, ok := conditionFailed(err); ok {
		return false, nil
	}
	if err != nil {
		return false, translate("claim push", err)
	}
	return true, nil
}

// ReleasePush removes a claim, so the push may be tried again.
func (s *Store) ReleasePush(ctx context.Context, sub, id string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: noticeKey(sub, id), UpdateExpression: aws.String("REMOVE pushedAt"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	return translateErr("release push", err)
}

var _ notify.InboxStore = (*Store)(nil)

// translateErr is translate for a result that may be nil.
func translateErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return translate(op, err)
}
