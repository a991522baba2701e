// Package market is the honor supermarket (文明市民荣誉超市) and its 四兑: points redeemed for goods (兑奖品),
// honor titles (兑荣誉), donations to good causes (兑爱心) and credit-score units (兑信用). Every redemption is
// one transaction whose conditions are the rules: enough points, stock left, the per-user limit, the item
// still on sale, and an idempotency key not used before. Nothing is written by a refused redemption.
package market

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/points"
)

// Kind of catalog item.
type Kind string

// The four kinds (四兑).
const (
	Goods   Kind = "goods"
	Honor   Kind = "honor"
	Charity Kind = "charity"
	Credit  Kind = "credit"
)

// Item is a catalog entry. Stock is split over Shards items so that a popular prize can take more writes
// than one DynamoDB partition's 1,000 a second.
type Item struct {
	ID             string `json:"id"`
	Kind           Kind   `json:"kind"`
	NameZH         string `json:"nameZh"`
	NameEN         string `json:"nameEn"`
	Description    string `json:"description,omitempty"`
	Active         bool   `json:"active"`
	Cost           int64  `json:"cost,omitempty"`           // goods, honor: points per unit
	Stock          int64  `json:"stock,omitempty"`          // goods: units on sale (set by admins; split over shards)
	Shards         int    `json:"shards,omitempty"`         // goods: stock shards (1 by default)
	MonthlyLimit   int64  `json:"monthlyLimit,omitempty"`   // goods: units per user per local month (0: none)
	PickupLocation string `json:"pickupLocation,omitempty"` // goods
	Title          string `json:"title,omitempty"`          // honor: the title granted
	MinAmount      int64  `json:"minAmount,omitempty"`      // charity: smallest donation in points
	Rate           int64  `json:"rate,omitempty"`           // credit: points per credit unit
}

// Errors of the supermarket; codes are part of the API.
var (
	ErrInvalidItem        = apperr.New(apperr.Invalid, "invalid_item", "the catalog item is not valid")
	ErrItemUnavailable    = apperr.New(apperr.Conflict, "item_unavailable", "this item is not on sale")
	ErrItemNotFound       = apperr.New(apperr.NotFound, "item_unavailable", "no such item")
	ErrInsufficientPoints = apperr.New(apperr.Conflict, "insufficient_points", "not enough points")
	ErrOutOfStock         = apperr.New(apperr.Conflict, "out_of_stock", "out of stock")
	ErrLimitReached       = apperr.New(apperr.Conflict, "limit_reached", "you have reached this item's limit")
	ErrInvalidRequest     = apperr.New(apperr.Invalid, "invalid_redemption", "the redemption request is not valid")
	ErrNotFound           = apperr.New(apperr.NotFound, "redemption_not_found", "no such redemption")
	ErrNotCancellable     = apperr.New(apperr.Conflict, "not_cancellable", "only a reserved redemption can be cancelled")
	ErrNotFulfillable     = apperr.New(apperr.Conflict, "not_fulfillable", "only a reserved redemption can be fulfilled")
	ErrCollected          = apperr.New(apperr.Conflict, "already_collected", "the redemption has been collected already")
	ErrExpired            = apperr.New(apperr.Conflict, "redemption_expired", "the redemption expired unclaimed: its points were refunded")
	ErrCancelled          = apperr.New(apperr.Conflict, "redemption_cancelled", "the redemption was cancelled: its points were refunded")
	ErrLocked             = apperr.New(apperr.Conflict, "redemption_locked", "too many wrong pickup codes: the redemption is locked")
	ErrWrongCode          = apperr.New(apperr.Invalid, "wrong_pickup_code", "the pickup code is wrong")
)

// NotFulfillable is the refusal of a pickup of a redemption in status st (not reserved): each status has
// a code of its own, so a counter tells the clerk why without reading the message.
func NotFulfillable(st Status) error {
	switch st {
	case Completed:
		return ErrCollected
	case Expired:
		return ErrExpired
	case Cancelled:
		return ErrCancelled
	case Locked:
		return ErrLocked
	}
	return ErrNotFulfillable.With("the redemption is %s", st)
}

// MaxShards bounds the stock shards of one item: a restock writes the item and every shard in one
// TransactWriteItems, which takes at most 100 actions (the fuzzer's 100 shards made 101: a 500).
const MaxShards = 99

// Validate checks an item.
func (it Item) Validate() error {
	if it.ID == "" || len(it.ID) > 64 || strings.ContainsAny(it.ID, "#/ ") {
		return ErrInvalidItem.With("an item needs an id of at most 64 characters without #, / or spaces")
	}
	if strings.TrimSpace(it.NameZH) == "" && strings.TrimSpace(it.NameEN) == "" {
		return ErrInvalidItem.With("an item needs a name")
	}
	switch it.Kind {
	case Goods:
		if it.Cost < 1 || it.Stock < 0 || it.Shards < 0 || it.Shards > MaxShards || it.MonthlyLimit < 0 {
			return ErrInvalidItem.With("goods need a cost of at least 1, stock ≥ 0, 0–%d shards and a limit ≥ 0", MaxShards)
		}
	case Honor:
		// The title goes into every buyer's profile: bounded like the point rules' titles.
		if it.Cost < 1 || !points.ValidTitle(it.Title) {
			return ErrInvalidItem.With("an honor needs a cost and a title of 1-%d characters", points.MaxTitle)
		}
	case Charity:
		if it.MinAmount < 1 {
			return ErrInvalidItem.With("a cause needs a minimum donation of at least 1 point")
		}
	case Credit:
		if it.Rate < 1 {
			return ErrInvalidItem.With("credit needs a rate of at least 1 point per unit")
		}
	default:
		return ErrInvalidItem.With("kind must be goods, honor, charity or credit")
	}
	return nil
}

// ShardCount is the number of stock shards (at least 1).
func (it Item) ShardCount() int { return max(1, it.Shards) }

// Split divides stock over n shards as evenly as possible.
func Split(stock int64, n int) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = stock / int64(n)
		if int64(i) < stock%int64(n) {
			out[i]++
		}
	}
	return out
}

// Status of a redemption.
type Status string

// Redemption statuses.
const (
	Reserved  Status = "reserved" // goods awaiting pickup
	Completed Status = "completed"
	Cancelled Status = "cancelled"
	Expired   Status = "expired"
	Locked    Status = "locked"
)

// Redemption is a citizen's redemption.
type Redemption struct {
	ID           string     `json:"id"`
	Sub          string     `json:"sub,omitempty"`
	ItemID       string     `json:"itemId"`
	Kind         Kind       `json:"kind"`
	Quantity     int64      `json:"quantity"`
	Amount       int64      `json:"amount"` // points spent
	CreditUnits  int64      `json:"creditUnits,omitempty"`
	Title        string     `json:"title,omitempty"`
	Status       Status     `json:"status"`
	PickupCode   string     `json:"pickupCode,omitempty"` // shown to the redeemer only
	PickupAt     string     `json:"pickupLocation,omitempty"`
	Shard        int        `json:"-"`
	WrongCodes   int        `json:"-"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    *time.Time `json:"expiresAt,omitempty"`
	CompletedAt  *time.Time `json:"completedAt,omitempty"`
	Month        string     `json:"-"` // local month of the per-user limit counter (LimitOnce for honors)
	LimitCounted bool       `json:"-"`
	// BodyHash is the fingerprint of the request that made it (idem.Hash): the redemption is its own
	// Idempotency-Key record, so a re-sent key with another body is told apart from a replay.
	BodyHash string `json:"-"`
}

// LimitOnce is the limit key of an item a citizen may buy once (an honor).
const LimitOnce = "ONCE"

// RedemptionID is the id of the redemption a citizen's Idempotency-Key makes: a name-based UUID (v5) of
// (sub, key), so the same key always names the same redemption and the redemption's own conditional put
// is the key's record — no idempotency item is written beside it. Keys are printable ASCII (no NUL), so
// the separator keeps (sub, key) pairs apart.
func RedemptionID(sub, key string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("civicsnap:redemption:"+sub+"\x00"+key)).String()
}

// UsedKeyError is Store.Redeem's answer when the plan's redemption exists already: its Idempotency-Key
// was used (by this request's earlier send, or another request). Prior is that redemption.
type UsedKeyError struct{ Prior Redemption }

func (e *UsedKeyError) Error() string { return "idempotency key used by redemption " + e.Prior.ID }

// Unwrap makes errors.Is(err, ErrKeyUsed) hold.
func (e *UsedKeyError) Unwrap() error { return ErrKeyUsed }

// PickupCode returns a random 6-digit code.
func PickupCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("pickup code: %w", err)
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// Availability is what citizens see of goods stock.
func Availability(stock, initial int64) string {
	switch {
	case stock <= 0:
		return "out"
	case stock <= max(3, initial/10):
		return "low"
	}
	return "available"
}

// CreditPlatform is the recipient id of credit conversions: the city credit platform, notified with a
// signed webhook like a department.
const CreditPlatform = "credit_platform"
