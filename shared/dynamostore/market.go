package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Honor supermarket:
//
//	catalog item    pk=ITEM#<id>  sk=ITEM      doc=<JSON>   gsi1pk=CATALOG gsi1sk=<kind>#<id>
//	stock shard     pk=ITEM#<id>  sk=STOCK#<n> stock, initial, active (the item's, which a redemption checks
//	                here)   (no GSI keys: stock writes never touch an index)
//	cause totals    pk=ITEM#<id>  sk=TOTALS    total, donations, donors
//	donor marker    pk=ITEM#<id>  sk=DONOR#<sub>
//	per-user limits on the profile (pk=USER#<sub> sk=PROFILE): limitMonth, limits {<item>: units} of
//	                that local month only, boughtOnce {<item>} (honors)
//	redemption      pk=REDEMPTION#<id> sk=REDEMPTION   (id from (sub, Idempotency-Key); bodyHash)
//	  gsi1 REDEEMER#<sub> / <createdAt>#<id>   (mine)
//	  gsi2 ITEMRED#<item> / <createdAt>#<id>   (admins, by item; the expiry sweep, oldest first)
//	  (no KPI entry: the roll-up finds a day's redemptions by their ledger entries, gsi3 POINTS#<day>, and
//	  reads them; redemptions made before keep a gsi3 REDEEMED#<day> entry nobody reads)
//	  (redemptions made before the sweep walked gsi2 may still carry gsi4 PICKUP#OPEN keys while reserved;
//	  closing one removes them)
//	sweep checkpoint pk=ITEM#<id> sk=PICKUPSWEPT  through (a gsi2sk: every redemption up to it is closed)
func itemPK(id string) string { return "ITEM#" + id }

func redemptionKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str("REDEMPTION#" + id), "sk": str("REDEMPTION")}
}

// Items returns the catalog with one Query on gsi1.
func (s *Store) Items(ctx context.Context) ([]market.Item, error) {
	var out []market.Item
	in := &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("CATALOG")},
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, translate("query catalog", err)
		}
		for _, raw := range page.Items {
			var it market.Item
			doc, _ := raw["doc"].(*types.AttributeValueMemberS)
			if doc == nil || json.Unmarshal([]byte(doc.Value), &it) != nil {
				return nil, errors.New("decode catalog item")
			}
			out = append(out, it)
		}
		if page.LastEvaluatedKey == nil {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Item returns one catalog item.
func (s *Store) Item(ctx context.Context, id string) (market.Item, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: map[string]types.AttributeValue{"pk": str(itemPK(id)), "sk": str("ITEM")}})
	if err != nil {
		return market.Item{}, translate("get item", err)
	}
	doc, _ := out.Item["doc"].(*types.AttributeValueMemberS)
	if doc == nil {
		return market.Item{}, market.ErrItemNotFound
	}
	var it market.Item
	if err := json.Unmarshal([]byte(doc.Value), &it); err != nil {
		return market.Item{}, fmt.Errorf("decode item %s: %w", id, err)
	}
	return it, nil
}

// Stocks reads every goods item's shards and every cause's totals with BatchGetItem (100 keys a call).
func (s *Store) Stocks(ctx context.Context, items []market.Item) (map[string]int64, map[string]market.Totals, error) {
	var keys []map[string]types.AttributeValue
	for _, it := range items {
		switch it.Kind {
		case market.Goods:
			for n := range it.ShardCount() {
				keys = append(keys, map[string]types.AttributeValue{"pk": str(itemPK(it.ID)), "sk": str(fmt.Sprintf("STOCK#%d", n))})
			}
		case market.Charity:
			keys = append(keys, map[string]types.AttributeValue{"pk": str(itemPK(it.ID)), "sk": str("TOTALS")})
		}
	}
	stocks, totals := map[string]int64{}, map[string]market.Totals{}
	for start := 0; start < len(keys); start += 100 {
		req := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+100, len(keys))]}}
		for len(req) > 0 {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, nil, translate("read stock", err)
			}
			for _, raw := range out.Responses[s.table] {
				pk := raw["pk"].(*types.AttributeValueMemberS).Value
				id := strings.TrimPrefix(pk, "ITEM#")
				var v struct {
					SK        string `dynamodbav:"sk"`
					Stock     int64  `dynamodbav:"stock"`
					Total     int64  `dynamodbav:"total"`
					Donations int64  `dynamodbav:"donations"`
					Donors    int64  `dynamodbav:"donors"`
				}
				if err := attributevalue.UnmarshalMap(raw, &v); err != nil {
					return nil, nil, err
				}
				if v.SK == "TOTALS" {
					totals[id] = market.Totals{Total: v.Total, Donations: v.Donations, Donors: v.Donors}
				} else {
					stocks[id] += v.Stock
				}
			}
			req = out.UnprocessedKeys
		}
	}
	return stocks, totals, nil
}

// ShardStocks reads each stock shard of a goods item with one strongly consistent BatchGetItem (MaxShards
// keys fit in one call; unprocessed keys are asked again).
func (s *Store) ShardStocks(ctx context.Context, it market.Item) ([]int64, error) {
	out := make([]int64, it.ShardCount())
	keys := make([]map[string]types.AttributeValue, len(out))
	for n := range out {
		keys[n] = map[string]types.AttributeValue{"pk": str(itemPK(it.ID)), "sk": str(fmt.Sprintf("STOCK#%d", n))}
	}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for len(req) > 0 {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, translate("read stock shards", err)
		}
		for _, raw := range res.Responses[s.table] {
			var v struct {
				SK    string `dynamodbav:"sk"`
				Stock int64  `dynamodbav:"stock"`
			}
			if err := attributevalue.UnmarshalMap(raw, &v); err != nil {
				return nil, fmt.Errorf("decode stock shard: %w", err)
			}
			if n, err := strconv.Atoi(strings.TrimPrefix(v.SK, "STOCK#")); err == nil && n >= 0 && n < len(out) {
				out[n] = v.Stock
			}
		}
		req = res.UnprocessedKeys
	}
	return out, nil
}

// PutItem saves the item; with resetStock the goods stock is split over its shards (a restock), and a new
// cause gets zero totals. Every stock shard carries the item's active flag, which a redemption checks on
// the shard it takes from instead of reading the catalog item (one transaction item less): so a goods
// item's active flag is written with its shards, and shards a smaller shard count leaves behind are
// marked inactive (a container whose catalog is cached may still draw one).
func (s *Store) PutItem(ctx context.Context, it market.Item, resetStock bool) error {
	b, err := json.Marshal(it)
	if err != nil {
		return err
	}
	oldShards := 0
	if it.Kind == market.Goods {
		old, err := s.Item(ctx, it.ID)
		switch {
		case err == nil && old.Kind == market.Goods:
			oldShards = old.ShardCount()
		case err != nil && !errors.Is(err, market.ErrItemNotFound):
			return err
		}
	}
	items := []types.TransactWriteItem{{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
		"pk": str(itemPK(it.ID)), "sk": str("ITEM"), "type": str("catalog"), "doc": str(string(b)),
		"active": &types.AttributeValueMemberBOOL{Value: it.Active},
		"gsi1pk": str("CATALOG"), "gsi1sk": str(string(it.Kind) + "#" + it.ID),
	}}}}
	if resetStock {
		for n, v := range market.Split(it.Stock, it.ShardCount()) {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
				"pk": str(itemPK(it.ID)), "sk": str(fmt.Sprintf("STOCK#%d", n)), "type": str("stock"), "stock": num(v), "initial": num(v),
				"active": &types.AttributeValueMemberBOOL{Value: it.Active},
			}}})
		}
	}
	if it.Kind == market.Goods {
		if !resetStock {
			for n := range it.ShardCount() {
				items = append(items, shardActive(s.table, it.ID, n, it.Active))
			}
		}
		// Shards past the new count keep their stock (a refund of a redemption made from one puts its
		// units back there) but sell no more.
		for n := it.ShardCount(); n < oldShards; n++ {
			items = append(items, shardActive(s.table, it.ID, n, false))
		}
	}
	if it.Kind == market.Charity {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.table,
			Key:                       map[string]types.AttributeValue{"pk": str(itemPK(it.ID)), "sk": str("TOTALS")},
			UpdateExpression:          aws.String("SET #t = if_not_exists(#t, :z), donations = if_not_exists(donations, :z), donors = if_not_exists(donors, :z), #type = :totals"),
			ExpressionAttributeNames:  map[string]string{"#t": "total", "#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":z": num(0), ":totals": str("totals")},
		}})
	}
	if _, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}); err != nil {
		return translate("put catalog item", err)
	}
	return nil
}

// shardActive sets a stock shard's active flag, leaving its stock as it is.
func shardActive(table, itemID string, n int, active bool) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: &table,
		Key:                       map[string]types.AttributeValue{"pk": str(itemPK(itemID)), "sk": str(fmt.Sprintf("STOCK#%d", n))},
		UpdateExpression:          aws.String("SET active = :a, #type = :stock, stock = if_not_exists(stock, :z), initial = if_not_exists(initial, :z)"),
		ExpressionAttributeNames:  map[string]string{"#type": "type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberBOOL{Value: active}, ":stock": str("stock"), ":z": num(0)},
	}}
}

// IsDonor reports whether sub has given to cause before (one GetItem of the donor marker).
func (s *Store) IsDonor(ctx context.Context, cause, sub string) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table,
		Key: map[string]types.AttributeValue{"pk": str(itemPK(cause)), "sk": str("DONOR#" + sub)}, ProjectionExpression: aws.String("pk")})
	if err != nil {
		return false, translate("read donor marker", err)
	}
	return out.Item != nil, nil
}

type redemptionItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	ID          string `dynamodbav:"id"`
	Sub         string `dynamodbav:"sub"`
	ItemID      string `dynamodbav:"itemId"`
	Kind        string `dynamodbav:"kind"`
	Quantity    int64  `dynamodbav:"quantity"`
	Amount      int64  `dynamodbav:"amount"`
	CreditUnits int64  `dynamodbav:"creditUnits,omitempty"`
	Title       string `dynamodbav:"title,omitempty"`
	Status      string `dynamodbav:"status"`
	PickupCode  string `dynamodbav:"pickupCode,omitempty"`
	PickupAt    string `dynamodbav:"pickupLocation,omitempty"`
	Shard       int    `dynamodbav:"shard"`
	WrongCodes  int    `dynamodbav:"wrongCodes"`
	Month       string `dynamodbav:"month,omitempty"`
	Counted     bool   `dynamodbav:"limitCounted"`
	CreatedAt   string `dynamodbav:"createdAt"`
	ExpiresAt   string `dynamodbav:"expiresAt,omitempty"`
	CompletedAt string `dynamodbav:"completedAt,omitempty"`
	GSI1PK      string `dynamodbav:"gsi1pk"`
	GSI1SK      string `dynamodbav:"gsi1sk"`
	GSI2PK      string `dynamodbav:"gsi2pk"`
	GSI2SK      string `dynamodbav:"gsi2sk"`
}

func (s *Store) toRedemptionItem(r market.Redemption) redemptionItem {
	created := timeKey(r.CreatedAt)
	it := redemptionItem{
		PK: "REDEMPTION#" + r.ID, SK: "REDEMPTION", Type: "redemption", ID: r.ID, Sub: r.Sub, ItemID: r.ItemID, Kind: string(r.Kind),
		Quantity: r.Quantity, Amount: r.Amount, CreditUnits: r.CreditUnits, Title: r.Title, Status: string(r.Status),
		PickupCode: r.PickupCode, PickupAt: r.PickupAt, Shard: r.Shard, Month: r.Month, Counted: r.LimitCounted, CreatedAt: created,
		GSI1PK: "REDEEMER#" + r.Sub, GSI1SK: created + "#" + r.ID, GSI2PK: "ITEMRED#" + r.ItemID, GSI2SK: created + "#" + r.ID,
	}
	if r.ExpiresAt != nil {
		it.ExpiresAt = timeKey(*r.ExpiresAt)
	}
	return it
}

func (it redemptionItem) redemption() market.Redemption {
	r := market.Redemption{ID: it.ID, Sub: it.Sub, ItemID: it.ItemID, Kind: market.Kind(it.Kind), Quantity: it.Quantity, Amount: it.Amount,
		CreditUnits: it.CreditUnits, Title: it.Title, Status: market.Status(it.Status), PickupCode: it.PickupCode, PickupAt: it.PickupAt,
		Shard: it.Shard, WrongCodes: it.WrongCodes, Month: it.Month, LimitCounted: it.Counted, CreatedAt: parseTime(it.CreatedAt),
		ExpiresAt: optTime(it.ExpiresAt), CompletedAt: optTime(it.CompletedAt)}
	return r
}

// Redeem runs a redemption's transaction. Its items: the redemption (new: its id is the Idempotency-Key's,
// so it is the key's record), the item's on-sale check (goods: on the stock shard, with the stock; other
// kinds: a ConditionCheck of the catalog item), the profile (balance ≥ cost, and the per-user limit kept
// on it), a cause's totals and donor marker, and the ledger entry. A refused condition is mapped to the
// domain error of its item; the redemption's, the shard's and the profile's come back with the item as it
// was (ALL_OLD), which tells a used key's redemption, the reason of a refusal and a profile that moved on
// to another limit month meanwhile (then the transaction is sent again) apart.
func (s *Store) Redeem(ctx context.Context, p market.Plan) error {
	monthly := p.LimitKey != "" && p.LimitKey != market.LimitOnce
	legacy := false // a stock shard written before shards carried the item's active flag
	for range 3 {
		var prof *profileItem
		if monthly {
			// Whether the profile's counters are this month's decides the update: one read (the only one
			// a limited item's redemption makes), checked again by the transaction's condition.
			it, ok, err := s.getProfile(ctx, p.Redemption.Sub)
			if err != nil {
				return err
			}
			if !ok {
				it = profileItem{}
			}
			prof = &it
		}
		err := s.redeemTx(ctx, p, prof, legacy)
		switch {
		case errors.Is(err, errLegacyShard) && !legacy:
			legacy = true
		case errors.Is(err, errLimitMonthMoved):
		default:
			return err
		}
	}
	return apperr.ErrContention
}

var (
	errLegacyShard     = errors.New("stock shard without the active flag")
	errLimitMonthMoved = errors.New("the profile's limit month moved")
)

// redeemTx builds and sends one redemption transaction. prof is the profile as read (monthly limits only).
func (s *Store) redeemTx(ctx context.Context, p market.Plan, prof *profileItem, legacy bool) error {
	r := p.Redemption
	month := p.LimitKey
	if prof != nil && prof.LimitMonth > month {
		// Counters only move forward (a container whose clock is behind at the turn of a month): this
		// redemption counts against the newer month, which its refund then finds.
		month = prof.LimitMonth
	}
	if p.LimitKey != "" {
		r.Month = month
	}
	var items []types.TransactWriteItem
	add := func(it types.TransactWriteItem) int {
		items = append(items, it)
		return len(items) - 1
	}
	redItem, err := attributevalue.MarshalMap(s.toRedemptionItem(r))
	if err != nil {
		return err
	}
	redItem["bodyHash"] = str(r.BodyHash) // not in redemptionItem: no index reader decodes it
	iRed := add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: redItem,
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}})

	t := &types.AttributeValueMemberBOOL{Value: true}
	iShard, iActive := -1, -1
	if p.Item.Kind == market.Goods {
		cond := "active = :t AND stock >= :q"
		vals := map[string]types.AttributeValue{":q": num(r.Quantity), ":t": t}
		if legacy {
			cond, vals = "stock >= :q", map[string]types.AttributeValue{":q": num(r.Quantity)}
		}
		iShard = add(types.TransactWriteItem{Update: &types.Update{TableName: &s.table,
			Key:                                 map[string]types.AttributeValue{"pk": str(itemPK(p.Item.ID)), "sk": str(fmt.Sprintf("STOCK#%d", r.Shard))},
			UpdateExpression:                    aws.String("SET stock = stock - :q"),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	if p.Item.Kind != market.Goods || legacy {
		iActive = add(types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: &s.table,
			Key:                       map[string]types.AttributeValue{"pk": str(itemPK(p.Item.ID)), "sk": str("ITEM")},
			ConditionExpression:       aws.String("active = :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": t},
		}})
	}

	set := "SET balance = balance - :c, lifetimeRedeemed = lifetimeRedeemed + :c, version = version + :one"
	cond := "attribute_exists(pk) AND balance >= :c"
	extra := ""
	names := map[string]string{}
	vals := map[string]types.AttributeValue{":c": num(p.Cost), ":one": num(1)}
	if p.Honor != nil {
		h, err := attributevalue.Marshal([]any{map[string]any{"Title": p.Honor.Title, "At": p.Honor.At}})
		if err != nil {
			return err
		}
		set += ", honors = list_append(honors, :h)"
		vals[":h"] = h
	}
	switch {
	case p.LimitKey == market.LimitOnce:
		extra = " ADD boughtOnce :once"
		cond += " AND NOT contains(boughtOnce, :item)"
		vals[":once"] = &types.AttributeValueMemberSS{Value: []string{p.Item.ID}}
		vals[":item"] = str(p.Item.ID)
	case p.LimitKey != "" && prof.LimitMonth == month:
		set += ", limits.#item = if_not_exists(limits.#item, :z) + :q"
		cond += " AND limitMonth = :m AND (attribute_not_exists(limits.#item) OR limits.#item <= :room)"
		names["#item"] = p.Item.ID
		vals[":z"], vals[":q"], vals[":m"], vals[":room"] = num(0), num(r.Quantity), str(month), num(p.LimitMax-r.Quantity)
	case p.LimitKey != "":
		// A new month: the counters start again with this item's (last month's are dropped, so the
		// profile holds one month's counters at most).
		set += ", limitMonth = :m, limits = :fresh"
		cond += " AND (attribute_not_exists(limitMonth) OR limitMonth < :m)"
		vals[":m"] = str(month)
		vals[":fresh"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{p.Item.ID: num(r.Quantity)}}
	}
	if p.LimitKey != "" && r.Quantity > p.LimitMax {
		// More than the limit at once: refused whatever the counters, but by the transaction, so that a
		// used key is still answered as such.
		cond += " AND attribute_not_exists(pk)"
	}
	upd := &types.Update{TableName: &s.table, Key: profileKey(r.Sub),
		UpdateExpression: aws.String(set + extra), ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if len(names) > 0 {
		upd.ExpressionAttributeNames = names
	}
	iProf := add(types.TransactWriteItem{Update: upd})

	iDonor := -1
	if p.Item.Kind == market.Charity {
		u := "ADD #t :amt, donations :one"
		if p.FirstGift {
			u += ", donors :one"
		}
		add(types.TransactWriteItem{Update: &types.Update{TableName: &s.table,
			Key:                       map[string]types.AttributeValue{"pk": str(itemPK(p.Item.ID)), "sk": str("TOTALS")},
			UpdateExpression:          aws.String(u),
			ExpressionAttributeNames:  map[string]string{"#t": "total"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":amt": num(p.Cost), ":one": num(1)},
		}})
		if p.FirstGift {
			iDonor = add(types.TransactWriteItem{Put: &types.Put{TableName: &s.table,
				Item:                map[string]types.AttributeValue{"pk": str(itemPK(p.Item.ID)), "sk": str("DONOR#" + r.Sub), "type": str("donor")},
				ConditionExpression: aws.String("attribute_not_exists(pk)"),
			}})
		}
	}
	led, err := s.ledgerPut(r.Sub, p.Entry)
	if err != nil {
		return err
	}
	add(led)

	// A re-sent transaction (the SDK's retry after a lost answer) that DynamoDB does not recognise by its
	// ClientRequestToken (moto never does) fails on the redemption it wrote: a *UsedKeyError whose
	// redemption has this request's body, which the caller answers as a replay, its own.
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	reasons := cancellationReasons(err)
	failed := func(i int) (map[string]types.AttributeValue, bool) {
		if i < 0 || i >= len(reasons) || aws.ToString(reasons[i].Code) != "ConditionalCheckFailed" {
			return nil, false
		}
		return reasons[i].Item, true
	}
	// The refusals, in the order a client is told them: the key before anything else (a replay's first
	// send spent the points and the stock), then the item being off sale, the balance, the stock, the
	// limit.
	if old, ok := failed(iRed); ok {
		return s.usedKey(ctx, r.ID, old)
	}
	shard, shardFailed := failed(iShard)
	if _, ok := failed(iActive); ok {
		return market.ErrItemUnavailable
	}
	if shardFailed && !legacy {
		if _, has := shard["active"]; shard != nil && !has {
			return errLegacyShard
		}
		if v, ok := shard["active"].(*types.AttributeValueMemberBOOL); ok && !v.Value {
			return market.ErrItemUnavailable
		}
	}
	old, profFailed := failed(iProf)
	var was profileItem
	if profFailed && old != nil {
		if err := attributevalue.UnmarshalMap(old, &was); err != nil {
			return fmt.Errorf("decode refused profile: %w", err)
		}
	}
	if profFailed && (old == nil || was.Balance < p.Cost) {
		return market.ErrInsufficientPoints
	}
	if shardFailed {
		return market.ErrOutOfStock
	}
	if profFailed {
		switch {
		case p.LimitKey != "" && r.Quantity > p.LimitMax:
			return market.ErrLimitReached
		case p.LimitKey == market.LimitOnce && slices.Contains(was.BoughtOnce, p.Item.ID):
			return market.ErrLimitReached
		case p.LimitKey != "" && p.LimitKey != market.LimitOnce && was.LimitMonth == month && was.Limits[p.Item.ID]+r.Quantity > p.LimitMax:
			return market.ErrLimitReached
		case p.LimitKey != "" && p.LimitKey != market.LimitOnce:
			return errLimitMonthMoved
		}
		return market.ErrInsufficientPoints
	}
	if _, ok := failed(iDonor); ok {
		return idem.ErrInFlight // a concurrent first gift by the same donor: the caller may retry
	}
	if err != nil {
		return translate("redeem", err) // a TransactionConflict: apperr.ErrContention
	}
	return nil
}

// usedKey is the refusal of a redemption whose id exists: the existing one, from the refused put's
// ALL_OLD image (or, if the answer carried none, read).
func (s *Store) usedKey(ctx context.Context, id string, old map[string]types.AttributeValue) error {
	if old == nil {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: redemptionKey(id), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return translate("read used key's redemption", err)
		}
		if out.Item == nil {
			return idem.ErrInFlight
		}
		old = out.Item
	}
	var it redemptionItem
	if err := attributevalue.UnmarshalMap(old, &it); err != nil {
		return fmt.Errorf("decode used key's redemption: %w", err)
	}
	prior := it.redemption()
	prior.BodyHash = stringAttr(old, "bodyHash")
	return &market.UsedKeyError{Prior: prior}
}

// IdempotencyRecord reads a stored key (the one read a replay costs).
func (s *Store) IdempotencyRecord(ctx context.Context, scope, owner, key string) (*idem.Record, error) {
	rec := idem.Record{Scope: scope, Owner: owner, Key: key}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: idemKey(rec), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, translate("read idempotency key", err)
	}
	if out.Item == nil {
		return nil, nil
	}
	var it idemItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, err
	}
	r := fromIdemItem(scope, owner, key, it)
	return &r, nil
}

// Redemption reads one redemption.
func (s *Store) Redemption(ctx context.Context, id string) (market.Redemption, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: redemptionKey(id), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return market.Redemption{}, translate("get redemption", err)
	}
	if out.Item == nil {
		return market.Redemption{}, market.ErrNotFound
	}
	var it redemptionItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return market.Redemption{}, err
	}
	return it.redemption(), nil
}

// Complete fulfils a reserved redemption whose code matches: one conditional UpdateItem. The write names
// its attempt (completedBy); when its condition fails, the item as it was (ALL_OLD) tells whether this
// attempt completed it already — the SDK re-sent the request after the first answer was lost — which is a
// success, not a conflict.
func (s *Store) Complete(ctx context.Context, r market.Redemption, at time.Time, attempt string) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: redemptionKey(r.ID),
		UpdateExpression:                    aws.String("SET #st = :done, completedAt = :at, completedBy = :attempt REMOVE gsi4pk, gsi4sk"), // gsi4: an older redemption's pickup entry
		ConditionExpression:                 aws.String("#st = :reserved AND pickupCode = :code"),
		ExpressionAttributeNames:            map[string]string{"#st": "status"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":done": str(string(market.Completed)), ":at": str(timeKey(at)), ":reserved": str(string(market.Reserved)), ":code": str(r.PickupCode), ":attempt": str(attempt)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if stringAttr(ccf.Item, "completedBy") == attempt {
			return nil
		}
		// Cancelled, expired or fulfilled by another attempt meanwhile: the refusal of its status now.
		return market.NotFulfillable(market.Status(stringAttr(ccf.Item, "status")))
	}
	if err != nil {
		return translate("complete redemption", err)
	}
	return nil
}

// WrongCode counts a wrong code; the lockAt-th locks the redemption. The count is kept twice in one write:
// wrongCodes, and the set of attempts counted (wrongAttempts, at most lockAt ids: a locked redemption
// counts no more). The write is conditional on its attempt not being in the set, so a request the SDK
// re-sends after a lost answer counts once; its failed condition returns the item (ALL_OLD), whose set
// holds the attempt, and the count is read from there.
func (s *Store) WrongCode(ctx context.Context, r market.Redemption, attempt string, lockAt int) (bool, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: redemptionKey(r.ID),
		UpdateExpression:                    aws.String("ADD wrongCodes :one, wrongAttempts :attempts"),
		ConditionExpression:                 aws.String("#st = :reserved AND NOT contains(wrongAttempts, :attempt)"),
		ExpressionAttributeNames:            map[string]string{"#st": "status"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":one": num(1), ":reserved": str(string(market.Reserved)), ":attempt": str(attempt), ":attempts": &types.AttributeValueMemberSS{Value: []string{attempt}}},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	attrs := map[string]types.AttributeValue(nil)
	if ccf, ok := conditionFailed(err); ok {
		if !slices.Contains(stringSet(ccf.Item, "wrongAttempts"), attempt) {
			return false, market.NotFulfillable(market.Status(stringAttr(ccf.Item, "status")))
		}
		// Counted by this attempt's first send. The status may have moved on since (locked, by this
		// attempt's lock below or by another's; fulfilled; cancelled): the lock step below sorts it out.
		attrs = ccf.Item
	} else if err != nil {
		return false, translate("count wrong code", err)
	} else {
		attrs = out.Attributes
	}
	n := 0
	if v, ok := attrs["wrongCodes"].(*types.AttributeValueMemberN); ok {
		n, _ = strconv.Atoi(v.Value)
	}
	if n < lockAt {
		return false, nil
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &s.table, Key: redemptionKey(r.ID),
		UpdateExpression:                    aws.String("SET #st = :locked"),
		ConditionExpression:                 aws.String("#st = :reserved"),
		ExpressionAttributeNames:            map[string]string{"#st": "status"},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":locked": str(string(market.Locked)), ":reserved": str(string(market.Reserved))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		// Locked already (by this write's first send, or by another wrong code reaching the limit at the
		// same time): the outcome this caller asked for.
		if stringAttr(ccf.Item, "status") == string(market.Locked) {
			return true, nil
		}
		return false, market.NotFulfillable(market.Status(stringAttr(ccf.Item, "status")))
	}
	if err != nil {
		return false, translate("lock redemption", err)
	}
	return true, nil
}

// stringAttr is item[name] if it is a string, else "".
func stringAttr(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// stringSet is item[name] if it is a string set, else nil.
func stringSet(item map[string]types.AttributeValue, name string) []string {
	if v, ok := item[name].(*types.AttributeValueMemberSS); ok {
		return v.Value
	}
	return nil
}

// Refund cancels or expires a reserved redemption: status, refund to the profile (and, in the month it
// counted in, its units off the profile's per-user limit), restock of its shard, a refund ledger entry —
// one transaction, conditional on the status. An expiry also takes a locked redemption (too many wrong
// pickup codes), which otherwise stays in the pickup index.
func (s *Store) Refund(ctx context.Context, f market.Refund) error {
	r := f.Redemption
	uncount := r.LimitCounted && r.Month != "" && r.Month != market.LimitOnce
	err := s.refundTx(ctx, f, uncount)
	if errors.Is(err, errLimitMonthMoved) {
		// The profile counts another month now: this redemption's units are no longer counted anywhere.
		err = s.refundTx(ctx, f, false)
	}
	return err
}

func (s *Store) refundTx(ctx context.Context, f market.Refund, uncount bool) error {
	r := f.Redemption
	cond := "#st = :reserved"
	vals := map[string]types.AttributeValue{":to": str(string(f.To)), ":at": str(timeKey(f.At)), ":reserved": str(string(market.Reserved))}
	if f.To == market.Expired {
		cond = "#st IN (:reserved, :locked)"
		vals[":locked"] = str(string(market.Locked))
	}
	vals[":attempt"] = str(f.Attempt)
	prof := &types.Update{TableName: &s.table, Key: profileKey(r.Sub),
		UpdateExpression:          aws.String("SET balance = balance + :c, lifetimeRedeemed = lifetimeRedeemed - :c, version = version + :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": num(r.Amount), ":one": num(1)},
	}
	if uncount {
		prof.UpdateExpression = aws.String(*prof.UpdateExpression + ", limits.#item = limits.#item - :q")
		prof.ConditionExpression = aws.String("limitMonth = :m AND limits.#item >= :q")
		prof.ExpressionAttributeNames = map[string]string{"#item": r.ItemID}
		prof.ExpressionAttributeValues[":m"], prof.ExpressionAttributeValues[":q"] = str(r.Month), num(r.Quantity)
	}
	items := []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: redemptionKey(r.ID),
			UpdateExpression:                    aws.String("SET #st = :to, completedAt = :at, closedBy = :attempt REMOVE gsi4pk, gsi4sk"),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            map[string]string{"#st": "status"},
			ExpressionAttributeValues:           vals,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Update: prof},
		{Update: &types.Update{TableName: &s.table,
			Key:                       map[string]types.AttributeValue{"pk": str(itemPK(r.ItemID)), "sk": str(fmt.Sprintf("STOCK#%d", r.Shard))},
			UpdateExpression:          aws.String("SET stock = stock + :q"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": num(r.Quantity)},
		}},
	}
	led, err := s.ledgerPut(r.Sub, f.Entry)
	if err != nil {
		return err
	}
	items = append(items, led)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	reasons := cancellationReasons(err)
	if reasons != nil && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		// This very refund, applied by an earlier send of the same transaction (a re-send DynamoDB did not
		// recognise by its token), is a success; any other closing is a refusal.
		if f.Attempt != "" && stringAttr(reasons[0].Item, "closedBy") == f.Attempt {
			return nil
		}
		return market.ErrNotCancellable.With("the redemption is no longer reserved")
	}
	if len(reasons) > 1 && aws.ToString(reasons[1].Code) == "ConditionalCheckFailed" && uncount {
		return errLimitMonthMoved
	}
	if err != nil {
		return translate("refund redemption", err) // a TransactionConflict: apperr.ErrContention
	}
	return nil
}

func (s *Store) queryRedemptions(ctx context.Context, index, pk string, limit int, cursor string) ([]market.Redemption, string, error) {
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String(index),
		KeyConditionExpression:    aws.String(index + "pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false), Limit: aws.Int32(int32(limit))}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, pk, "REDEMPTION#", "")
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), index + "pk": str(c.GPK), index + "sk": str(c.GSK)}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query redemptions", err)
	}
	var items []redemptionItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", err
	}
	res := make([]market.Redemption, len(items))
	for i, it := range items {
		res[i] = it.redemption()
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		get := func(k string) string {
			if v, ok := lek[k].(*types.AttributeValueMemberS); ok {
				return v.Value
			}
			return ""
		}
		b, _ := json.Marshal(queueCursor{PK: get("pk"), SK: get("sk"), GPK: get(index + "pk"), GSK: get(index + "sk")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return res, next, nil
}

// ByUser lists a user's redemptions newest first.
func (s *Store) ByUser(ctx context.Context, sub string, limit int, cursor string) ([]market.Redemption, string, error) {
	return s.queryRedemptions(ctx, "gsi1", "REDEEMER#"+sub, limit, cursor)
}

// ByItem lists an item's redemptions newest first.
func (s *Store) ByItem(ctx context.Context, itemID string, limit int, cursor string) ([]market.Redemption, string, error) {
	return s.queryRedemptions(ctx, "gsi2", "ITEMRED#"+itemID, limit, cursor)
}

// Reservations queries gsi2 (ITEMRED#<item>, oldest first) for the item's redemptions made before
// createdBefore and after the position after.
func (s *Store) Reservations(ctx context.Context, itemID, after string, createdBefore time.Time, limit int, cursor string) ([]market.Reservation, string, error) {
	gpk := "ITEMRED#" + itemID
	in := &dynamodb.QueryInput{TableName: &s.table, IndexName: aws.String("gsi2"),
		KeyConditionExpression:    aws.String("gsi2pk = :pk AND gsi2sk < :to"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(gpk), ":to": str(timeKey(createdBefore))},
		ScanIndexForward:          aws.Bool(true), Limit: aws.Int32(int32(limit))}
	if after != "" {
		// BETWEEN is inclusive: the checkpoint's own redemption is read and skipped.
		in.KeyConditionExpression = aws.String("gsi2pk = :pk AND gsi2sk BETWEEN :from AND :to")
		in.ExpressionAttributeValues[":from"] = str(after)
	}
	if cursor != "" {
		c, err := decodeIndexCursor(cursor, gpk, "REDEMPTION#", "")
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{"pk": str(c.PK), "sk": str(c.SK), "gsi2pk": str(c.GPK), "gsi2sk": str(c.GSK)}
	}
	if after != "" && after >= timeKey(createdBefore) {
		return nil, "", nil // nothing between (BETWEEN would refuse the reversed range)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", translate("query reservations", err)
	}
	var res []market.Reservation
	for _, raw := range out.Items {
		pos := stringAttr(raw, "gsi2sk")
		if pos == after {
			continue
		}
		var it redemptionItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", fmt.Errorf("decode reservation: %w", err)
		}
		res = append(res, market.Reservation{Redemption: it.redemption(), Pos: pos})
	}
	next := ""
	if lek := out.LastEvaluatedKey; lek != nil {
		b, _ := json.Marshal(queueCursor{PK: stringAttr(lek, "pk"), SK: stringAttr(lek, "sk"), GPK: stringAttr(lek, "gsi2pk"), GSK: stringAttr(lek, "gsi2sk")})
		next = base64.RawURLEncoding.EncodeToString(b)
	}
	return res, next, nil
}

// A goods item's walk checkpoints (ITEM#<id> / <sk>: PICKUPSWEPT the expiry sweep's, PICKUPWARNED the
// "about to expire" walk's), `through` a by-item index position (gsi2 ITEMRED#<item>'s sort key). One
// small item per goods item and walk, written when the walk moves.

func (s *Store) itemCheckpoint(ctx context.Context, itemID, sk, what string) (string, error) {
	key := map[string]types.AttributeValue{"pk": str(itemPK(itemID)), "sk": str(sk)}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", translate("get "+what, err)
	}
	return stringAttr(out.Item, "through"), nil
}

// putItemCheckpoint moves a checkpoint forward (a concurrent or re-sent write of the same or a later one
// wins; never back).
func (s *Store) putItemCheckpoint(ctx context.Context, itemID, sk, pos, what string) error {
	item := map[string]types.AttributeValue{"pk": str(itemPK(itemID)), "sk": str(sk), "type": str("sweep"), "through": str(pos)}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR through < :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": str(pos)}})
	if _, ok := conditionFailed(err); ok {
		return nil
	}
	if err != nil {
		return translate("put "+what, err)
	}
	return nil
}

// PickupCheckpoint reads the expiry sweep's checkpoint of a goods item.
func (s *Store) PickupCheckpoint(ctx context.Context, itemID string) (string, error) {
	return s.itemCheckpoint(ctx, itemID, "PICKUPSWEPT", "pickup sweep checkpoint")
}

// PutPickupCheckpoint moves the expiry sweep's checkpoint forward.
func (s *Store) PutPickupCheckpoint(ctx context.Context, itemID, pos string) error {
	return s.putItemCheckpoint(ctx, itemID, "PICKUPSWEPT", pos, "pickup sweep checkpoint")
}

// RedemptionFromImage decodes a redemption item as a DynamoDB stream delivers it.
func RedemptionFromImage(img map[string]types.AttributeValue) (market.Redemption, error) {
	var it redemptionItem
	if err := attributevalue.UnmarshalMap(img, &it); err != nil {
		return market.Redemption{}, fmt.Errorf("decode redemption image: %w", err)
	}
	if it.Type != "redemption" {
		return market.Redemption{}, fmt.Errorf("image is a %q, not a redemption", it.Type)
	}
	return it.redemption(), nil
}
