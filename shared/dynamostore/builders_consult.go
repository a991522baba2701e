package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/builders"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// Transfers, desks, slots and bookings (builders_fair.go has the keys).

type transferItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	Employer    string `dynamodbav:"employer"`
	Destination string `dynamodbav:"destination"`
	Trade       string `dynamodbav:"trade,omitempty"`
	Headcount   int    `dynamodbav:"headcount"`
	Date        string `dynamodbav:"date"`
	Note        string `dynamodbav:"note,omitempty"`
	By          string `dynamodbav:"by"`
	CreatedAt   string `dynamodbav:"createdAt"`
	BodyHash    string `dynamodbav:"bodyHash,omitempty"`
	GSI1PK      string `dynamodbav:"gsi1pk"`
	GSI1SK      string `dynamodbav:"gsi1sk"`
}

func (it transferItem) transfer() builders.Transfer {
	return builders.Transfer{ID: it.ID, Employer: it.Employer, Destination: it.Destination, Trade: it.Trade,
		Headcount: it.Headcount, Date: it.Date, Note: it.Note, By: it.By, CreatedAt: parseTime(it.CreatedAt)}
}

// PutTransfer writes the transfer and its record (N = headcount) in one transaction.
func (s *Store) PutTransfer(ctx context.Context, t builders.Transfer, bodyHash string) (builders.Transfer, bool, error) {
	it := transferItem{PK: transferPK(t.ID), SK: "TRANSFER", Type: "transfer", ID: t.ID, Employer: t.Employer,
		Destination: t.Destination, Trade: t.Trade, Headcount: t.Headcount, Date: t.Date, Note: t.Note, By: t.By,
		CreatedAt: timeKey(t.CreatedAt), BodyHash: bodyHash, GSI1PK: "TRANSFERS", GSI1SK: t.Date + "#" + t.ID}
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		return builders.Transfer{}, false, fmt.Errorf("put transfer: encode: %w", err)
	}
	fl, err := s.fairTransact(ctx, "put transfer", []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		s.builderRecordPut(builders.Record{ID: t.ID, Kind: builders.RecTransfer, N: t.Headcount, Ref: t.ID, Detail: t.Trade, At: t.CreatedAt}),
	})
	if err != nil {
		return builders.Transfer{}, false, err
	}
	if fl == nil {
		return t, true, nil
	}
	var old transferItem
	ok, err := s.getItem(ctx, "read transfer", transferPK(t.ID), "TRANSFER", &old)
	if err != nil {
		return builders.Transfer{}, false, err
	}
	if !ok || old.BodyHash != bodyHash {
		return builders.Transfer{}, false, idem.ErrKeyReused
	}
	return old.transfer(), false, nil
}

// Transfers returns up to limit transfers departing from..to (one Query of gsi1 TRANSFERS).
func (s *Store) Transfers(ctx context.Context, from, to string, limit int) ([]builders.Transfer, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression: aws.String("gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("TRANSFERS"),
			":from": str(from + "#"), ":to": str(to + "#\uffff")},
		Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate("list transfers", err)
	}
	var items []transferItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("list transfers: decode: %w", err)
	}
	ts := make([]builders.Transfer, 0, len(items))
	for _, it := range items {
		ts = append(ts, it.transfer())
	}
	return ts, nil
}

type deskItem struct {
	PK        string   `dynamodbav:"pk"`
	SK        string   `dynamodbav:"sk"`
	Type      string   `dynamodbav:"type"`
	ID        string   `dynamodbav:"id"`
	Name      string   `dynamodbav:"name"`
	Kind      string   `dynamodbav:"kind"`
	Address   string   `dynamodbav:"address,omitempty"`
	Staff     []string `dynamodbav:"staff,stringset,omitempty"`
	CreatedAt string   `dynamodbav:"createdAt"`
}

func (it deskItem) desk() builders.Desk {
	return builders.Desk{ID: it.ID, Name: it.Name, Kind: it.Kind, Address: it.Address, Staff: nonNil(it.Staff), CreatedAt: parseTime(it.CreatedAt)}
}

// PutDesk creates or updates a desk in one UpdateItem (createdAt set once): applying it twice is the same.
func (s *Store) PutDesk(ctx context.Context, d builders.Desk) (builders.Desk, error) {
	vals := map[string]types.AttributeValue{":type": str("desk"), ":id": str(d.ID), ":name": str(d.Name), ":kind": str(d.Kind),
		":at": str(timeKey(d.CreatedAt)), ":g1": str("DESKS"), ":g1sk": str(d.Kind + "#" + d.ID)}
	set := "SET #type = :type, id = :id, #name = :name, kind = :kind, createdAt = if_not_exists(createdAt, :at), gsi1pk = :g1, gsi1sk = :g1sk"
	var remove []string
	if d.Address != "" {
		set += ", address = :address"
		vals[":address"] = str(d.Address)
	} else {
		remove = append(remove, "address")
	}
	if len(d.Staff) > 0 {
		set += ", staff = :staff"
		vals[":staff"] = &types.AttributeValueMemberSS{Value: d.Staff}
	} else {
		remove = append(remove, "staff")
	}
	expr := set
	if len(remove) > 0 {
		expr += " REMOVE "
		for i, r := range remove {
			if i > 0 {
				expr += ", "
			}
			expr += r
		}
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: keyOf(deskPK(d.ID), "DESK"),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: map[string]string{"#type": "type", "#name": "name"},
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew})
	if err != nil {
		return builders.Desk{}, translate("put desk", err)
	}
	var it deskItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return builders.Desk{}, fmt.Errorf("put desk: decode: %w", err)
	}
	return it.desk(), nil
}

// Desk returns a desk.
func (s *Store) Desk(ctx context.Context, id string) (builders.Desk, error) {
	var it deskItem
	ok, err := s.getItem(ctx, "get desk", deskPK(id), "DESK", &it)
	if err != nil {
		return builders.Desk{}, err
	}
	if !ok {
		return builders.Desk{}, builders.ErrDeskNotFound
	}
	return it.desk(), nil
}

// Desks returns up to limit desks (one Query of gsi1 DESKS).
func (s *Store) Desks(ctx context.Context, limit int) ([]builders.Desk, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi1"),
		KeyConditionExpression:    aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("DESKS")}, Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate("list desks", err)
	}
	var items []deskItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("list desks: decode: %w", err)
	}
	ds := make([]builders.Desk, 0, len(items))
	for _, it := range items {
		ds = append(ds, it.desk())
	}
	return ds, nil
}

type slotItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	DeskID   string `dynamodbav:"deskId"`
	ID       string `dynamodbav:"id"`
	Start    string `dynamodbav:"start"`
	End      string `dynamodbav:"end"`
	Capacity int    `dynamodbav:"capacity"`
	Booked   int    `dynamodbav:"booked"`
	SStatus  string `dynamodbav:"sstatus"`
}

func (it slotItem) slot() builders.Slot {
	return builders.Slot{DeskID: it.DeskID, ID: it.ID, Start: parseTime(it.Start), End: parseTime(it.End),
		Capacity: it.Capacity, Booked: it.Booked, Status: it.SStatus}
}

// PutSlots reads which slots exist (BatchGetItem), then writes the others in one transaction, each
// conditional on its absence; a slot written meanwhile (a concurrent identical batch) reads again.
func (s *Store) PutSlots(ctx context.Context, d builders.Desk, slots []builders.Slot) ([]builders.Slot, error) {
	keys := make([]map[string]types.AttributeValue, len(slots))
	for i, sl := range slots {
		keys[i] = keyOf(deskPK(d.ID), slotSK(sl))
	}
	for range fairMaxRounds {
		var items []slotItem
		if err := s.batchGetAll(ctx, "read slots", keys, &items); err != nil {
			return nil, err
		}
		have := map[string]builders.Slot{}
		for _, it := range items {
			have[it.ID] = it.slot()
		}
		var puts []types.TransactWriteItem
		for _, sl := range slots {
			if _, ok := have[sl.ID]; ok {
				continue
			}
			m, err := attributevalue.MarshalMap(slotItem{PK: deskPK(d.ID), SK: slotSK(sl), Type: "slot", DeskID: d.ID, ID: sl.ID,
				Start: timeKey(sl.Start), End: timeKey(sl.End), Capacity: sl.Capacity, SStatus: sl.Status})
			if err != nil {
				return nil, fmt.Errorf("put slots: encode: %w", err)
			}
			puts = append(puts, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: m,
				ConditionExpression: aws.String("attribute_not_exists(pk)")}})
			have[sl.ID] = sl
		}
		if len(puts) > 0 {
			fl, err := s.fairTransact(ctx, "put slots", puts)
			if err != nil {
				return nil, err
			}
			if fl != nil {
				continue
			}
		}
		out := make([]builders.Slot, len(slots))
		for i, sl := range slots {
			out[i] = have[sl.ID]
		}
		return out, nil
	}
	return nil, errContention("put slots")
}

// Slot returns a slot: its id names its start, so its key.
func (s *Store) Slot(ctx context.Context, deskID, slotID string) (builders.Slot, error) {
	start, ok := builders.SlotStart(slotID)
	if !ok {
		return builders.Slot{}, builders.ErrSlotNotFound
	}
	var it slotItem
	ok, err := s.getItem(ctx, "get slot", deskPK(deskID), slotSK(builders.Slot{ID: slotID, Start: start}), &it)
	if err != nil {
		return builders.Slot{}, err
	}
	if !ok {
		return builders.Slot{}, builders.ErrSlotNotFound
	}
	return it.slot(), nil
}

// Slots returns up to limit slots of a desk starting in [from, to) (one Query of the desk's partition).
func (s *Store) Slots(ctx context.Context, deskID string, from, to time.Time, limit int) ([]builders.Slot, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table,
		KeyConditionExpression: aws.String("pk = :pk AND sk BETWEEN :from AND :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deskPK(deskID)),
			":from": str("SLOT#" + timeKey(from)), ":to": str("SLOT#" + timeKey(to))},
		Limit: aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate("list slots", err)
	}
	var items []slotItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("list slots: decode: %w", err)
	}
	sls := make([]builders.Slot, 0, len(items))
	for _, it := range items {
		sls = append(sls, it.slot())
	}
	return sls, nil
}

type bookingItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	Type     string `dynamodbav:"type"`
	DeskID   string `dynamodbav:"deskId"`
	SlotID   string `dynamodbav:"slotId"`
	Sub      string `dynamodbav:"sub"`
	Kind     string `dynamodbav:"kind"`
	BStatus  string `dynamodbav:"bstatus"`
	Topic    string `dynamodbav:"topic,omitempty"`
	Start    string `dynamodbav:"start"`
	At       string `dynamodbav:"at"`
	ServedAt string `dynamodbav:"servedAt,omitempty"`
	ServedBy string `dynamodbav:"servedBy,omitempty"`
	GSI2PK   string `dynamodbav:"gsi2pk"`
	GSI2SK   string `dynamodbav:"gsi2sk"`
}

func (it bookingItem) booking() builders.Booking {
	b := builders.Booking{DeskID: it.DeskID, SlotID: it.SlotID, Sub: it.Sub, Kind: it.Kind, Status: it.BStatus,
		Topic: it.Topic, Start: parseTime(it.Start), At: parseTime(it.At), ServedBy: it.ServedBy}
	if it.ServedAt != "" {
		b.ServedAt = parseTime(it.ServedAt)
	}
	return b
}

// Book: one transaction [the slot's booked + 1 IF open, not started and booked < capacity; the booking IF
// there is none or it is cancelled].
func (s *Store) Book(ctx context.Context, sl builders.Slot, b builders.Booking) (builders.Booking, bool, error) {
	start := timeKey(sl.Start)
	m, err := attributevalue.MarshalMap(bookingItem{PK: deskPK(b.DeskID), SK: bookSK(b.SlotID, b.Sub), Type: "booking",
		DeskID: b.DeskID, SlotID: b.SlotID, Sub: b.Sub, Kind: b.Kind, BStatus: builders.BookingBooked, Topic: b.Topic,
		Start: start, At: timeKey(b.At), GSI2PK: "WORKERBOOKS#" + b.Sub, GSI2SK: start + "#" + b.SlotID})
	if err != nil {
		return builders.Booking{}, false, fmt.Errorf("book: encode: %w", err)
	}
	fl, err := s.fairTransact(ctx, "book slot", []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(deskPK(sl.DeskID), slotSK(sl)),
			UpdateExpression:         aws.String("SET booked = booked + :one"),
			ConditionExpression:      aws.String("sstatus = :open AND booked < #capacity AND #start > :now"),
			ExpressionAttributeNames: map[string]string{"#capacity": "capacity", "#start": "start"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":one": num(1), ":open": str("open"), ":now": str(timeKey(b.At))}}},
		{Put: &types.Put{TableName: &s.table, Item: m,
			ConditionExpression:       aws.String("attribute_not_exists(pk) OR bstatus = :cancelled"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":cancelled": str(builders.BookingCancelled)}}},
	})
	switch {
	case err != nil:
		return builders.Booking{}, false, err
	case fl == nil:
		b.Status, b.Start = builders.BookingBooked, sl.Start
		return b, true, nil
	case fl[1]:
		cur, err := s.Booking(ctx, b.DeskID, b.SlotID, b.Sub)
		return cur, false, err
	}
	cur, err := s.Slot(ctx, sl.DeskID, sl.ID)
	if err != nil {
		return builders.Booking{}, false, err
	}
	if cur.Status == "open" && cur.Start.After(b.At) && cur.Booked >= cur.Capacity {
		return builders.Booking{}, false, builders.ErrSlotFull
	}
	return builders.Booking{}, false, builders.ErrSlotClosed
}

// Booking returns sub's booking of a slot.
func (s *Store) Booking(ctx context.Context, deskID, slotID, sub string) (builders.Booking, error) {
	var it bookingItem
	ok, err := s.getItem(ctx, "get booking", deskPK(deskID), bookSK(slotID, sub), &it)
	if err != nil {
		return builders.Booking{}, err
	}
	if !ok {
		return builders.Booking{}, builders.ErrBookingNotFound
	}
	return it.booking(), nil
}

// CancelBooking: one transaction [the booking cancelled IF booked; the slot's booked − 1].
func (s *Store) CancelBooking(ctx context.Context, deskID, slotID, sub string) (builders.Booking, error) {
	start, _ := builders.SlotStart(slotID)
	for range fairMaxRounds {
		b, err := s.Booking(ctx, deskID, slotID, sub)
		if err != nil || b.Status == builders.BookingCancelled {
			return b, err
		}
		if b.Status != builders.BookingBooked {
			return builders.Booking{}, builders.ErrBookingServed
		}
		fl, err := s.fairTransact(ctx, "cancel booking", []types.TransactWriteItem{
			{Update: &types.Update{TableName: &s.table, Key: keyOf(deskPK(deskID), bookSK(slotID, sub)),
				UpdateExpression: aws.String("SET bstatus = :cancelled"), ConditionExpression: aws.String("bstatus = :booked"),
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":cancelled": str(builders.BookingCancelled), ":booked": str(builders.BookingBooked)}}},
			{Update: &types.Update{TableName: &s.table, Key: keyOf(deskPK(deskID), slotSK(builders.Slot{ID: slotID, Start: start})),
				UpdateExpression: aws.String("SET booked = booked - :one"), ConditionExpression: aws.String("booked > :zero"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1), ":zero": num(0)}}},
		})
		if err != nil {
			return builders.Booking{}, err
		}
		if fl == nil {
			b.Status = builders.BookingCancelled
			return b, nil
		}
		if fl[1] && !fl[0] {
			return builders.Booking{}, fmt.Errorf("cancel booking %s/%s/%s: the slot counts no booking", deskID, slotID, sub)
		}
	}
	return builders.Booking{}, errContention("cancel booking")
}

// Serve: one transaction [the booking served IF booked; the consultation record, detail = the desk's kind].
func (s *Store) Serve(ctx context.Context, b builders.Booking, kind string) error {
	fl, err := s.fairTransact(ctx, "serve booking", []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: keyOf(deskPK(b.DeskID), bookSK(b.SlotID, b.Sub)),
			UpdateExpression:    aws.String("SET bstatus = :served, servedAt = :at, servedBy = :by"),
			ConditionExpression: aws.String("bstatus = :booked"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":served": str(builders.BookingServed),
				":at": str(timeKey(b.ServedAt)), ":by": str(b.ServedBy), ":booked": str(builders.BookingBooked)}}},
		s.builderRecordPut(builders.Record{ID: b.DeskID + "#" + b.SlotID + "#" + b.Sub, Kind: builders.RecConsultation, N: 1,
			Sub: b.Sub, Ref: b.DeskID + "#" + b.SlotID, Detail: kind, At: b.ServedAt}),
	})
	if err != nil {
		return err
	}
	if fl != nil {
		return builders.ErrChanged
	}
	return nil
}

// Bookings returns up to limit bookings of a slot (one Query of the desk's partition).
func (s *Store) Bookings(ctx context.Context, deskID, slotID string, limit int) ([]builders.Booking, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{TableName: &s.table,
		KeyConditionExpression:    aws.String("pk = :pk AND begins_with(sk, :p)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(deskPK(deskID)), ":p": str("BOOK#" + slotID + "#")},
		Limit:                     aws.Int32(int32(limit))})
	if err != nil {
		return nil, translate("list bookings", err)
	}
	var items []bookingItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, fmt.Errorf("list bookings: decode: %w", err)
	}
	bs := make([]builders.Booking, 0, len(items))
	for _, it := range items {
		bs = append(bs, it.booking())
	}
	return bs, nil
}

// MyBookings reads the keys of sub's bookings on gsi2 (latest slot first), then the items.
func (s *Store) MyBookings(ctx context.Context, sub string, limit int) ([]builders.Booking, error) {
	keys, err := s.gsi2Keys(ctx, "my bookings", "WORKERBOOKS#"+sub, limit)
	if err != nil || len(keys) == 0 {
		return []builders.Booking{}, err
	}
	var items []bookingItem
	if err := s.batchGetAll(ctx, "my bookings", keys, &items); err != nil {
		return nil, err
	}
	bs := make([]builders.Booking, 0, len(items))
	for _, it := range items {
		bs = append(bs, it.booking())
	}
	sortByStartDesc(bs, func(b builders.Booking) string { return timeKey(b.Start) + b.SlotID + b.DeskID })
	return bs, nil
}

// SlotForWorker reads a desk, its slot (nil when none), sub's booking of it (nil when none) and whether sub
// has a worker profile, in one BatchGetItem.
func (s *Store) SlotForWorker(ctx context.Context, deskID, slotID, sub string) (builders.Desk, *builders.Slot, *builders.Booking, bool, error) {
	start, ok := builders.SlotStart(slotID)
	if !ok {
		return builders.Desk{}, nil, nil, false, builders.ErrSlotNotFound
	}
	raw, err := s.fairBatch(ctx, "read desk, slot and booking", []map[string]types.AttributeValue{
		keyOf(deskPK(deskID), "DESK"), keyOf(deskPK(deskID), slotSK(builders.Slot{ID: slotID, Start: start})),
		keyOf(deskPK(deskID), bookSK(slotID, sub)), keyOf(workerPK(sub), "PROFILE")})
	if err != nil {
		return builders.Desk{}, nil, nil, false, err
	}
	var d *builders.Desk
	var sl *builders.Slot
	var b *builders.Booking
	worker := false
	for _, item := range raw {
		switch stringAttr(item, "type") {
		case "worker":
			worker = true
		case "desk":
			var it deskItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return builders.Desk{}, nil, nil, false, fmt.Errorf("read desk %s: decode: %w", deskID, err)
			}
			v := it.desk()
			d = &v
		case "slot":
			var it slotItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return builders.Desk{}, nil, nil, false, fmt.Errorf("read slot %s/%s: decode: %w", deskID, slotID, err)
			}
			v := it.slot()
			sl = &v
		case "booking":
			var it bookingItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return builders.Desk{}, nil, nil, false, fmt.Errorf("read booking %s/%s/%s: decode: %w", deskID, slotID, sub, err)
			}
			v := it.booking()
			b = &v
		}
	}
	if d == nil {
		return builders.Desk{}, nil, nil, false, builders.ErrDeskNotFound
	}
	return *d, sl, b, worker, nil
}
