package market

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
	"github.com/civicsnap/civicsnap/shared/points"
	"github.com/civicsnap/civicsnap/shared/ttl"
)

// Plan is everything one redemption writes, in one TransactWriteItems.
type Plan struct {
	Redemption Redemption
	Item       Item
	Cost       int64
	LimitKey   string // the per-user limit's local month ("2026-11") or LimitOnce; "" when the item has no limit
	LimitMax   int64
	FirstGift  bool                // charity: the donor's first gift to this cause (marker + donor count)
	Honor      *points.EarnedHonor // honor: the title added to the profile
	Entry      points.Entry
}

// Refund is what a cancellation or expiry writes.
type Refund struct {
	Redemption Redemption
	To         Status
	Entry      points.Entry
	At         time.Time
	// Attempt names this refund (fresh per call): the store recognises its own write when the same
	// transaction is sent twice.
	Attempt string
}

// Store keeps the catalog and redemptions.
type Store interface {
	Items(ctx context.Context) ([]Item, error)
	Item(ctx context.Context, id string) (Item, error)
	// Stocks returns the remaining stock of each listed goods item and the totals of causes (one call).
	Stocks(ctx context.Context, items []Item) (map[string]int64, map[string]Totals, error)
	// ShardStocks returns the remaining stock of each of a goods item's shards (one strongly consistent read).
	ShardStocks(ctx context.Context, it Item) ([]int64, error)
	PutItem(ctx context.Context, it Item, resetStock bool) error
	// IsDonor reports whether sub has given to cause before.
	IsDonor(ctx context.Context, cause, sub string) (bool, error)
	// Redeem runs the plan's transaction; refused conditions come back as the domain's errors
	// (ErrInsufficientPoints, ErrOutOfStock, ErrLimitReached, ErrItemUnavailable), an existing redemption
	// of the same id (its Idempotency-Key used) as *UsedKeyError, a concurrent first gift to a cause as
	// idem.ErrInFlight, and a transaction conflict as apperr.ErrContention.
	Redeem(ctx context.Context, p Plan) error
	Redemption(ctx context.Context, id string) (Redemption, error)
	// Complete moves a reserved redemption to completed if code matches (NotFulfillable of its status
	// otherwise).
	// attempt names this fulfilment: a write the store finds already made by the same attempt (the SDK
	// re-sent it after its answer was lost) is a success, not a conflict.
	Complete(ctx context.Context, r Redemption, at time.Time, attempt string) error
	// WrongCode counts a wrong pickup code once per attempt, however often the write is sent, and locks
	// the redemption at lockAt; it returns whether it is now locked (NotFulfillable of its status if it is no
	// longer reserved).
	WrongCode(ctx context.Context, r Redemption, attempt string, lockAt int) (bool, error)
	// Refund cancels or expires a reserved redemption with refund and restock (ErrNotCancellable if it
	// is no longer reserved; an expiry also takes a locked one).
	Refund(ctx context.Context, f Refund) error
	ByUser(ctx context.Context, sub string, limit int, cursor string) ([]Redemption, string, error)
	ByItem(ctx context.Context, itemID string, limit int, cursor string) ([]Redemption, string, error)
	// Reservations lists a goods item's redemptions made before createdBefore and after the position
	// after ("": from the first), oldest first, a page at a time (cursor "" for the first page; next ""
	// after the last).
	Reservations(ctx context.Context, itemID, after string, createdBefore time.Time, limit int, cursor string) ([]Reservation, string, error)
	// PickupCheckpoint returns the expiry sweep's position in a goods item's redemptions ("" before its
	// first run): every redemption at or before it is closed.
	PickupCheckpoint(ctx context.Context, itemID string) (string, error)
	// PutPickupCheckpoint moves the checkpoint forward to pos (never back).
	PutPickupCheckpoint(ctx context.Context, itemID, pos string) error
}

// Reservation is a redemption as the expiry sweep walks an item's redemptions: with its position among
// them, which the sweep's checkpoint records.
type Reservation struct {
	Redemption
	Pos string
}

// ErrKeyUsed is what a *UsedKeyError from Store.Redeem unwraps to: the idempotency key was used before.
var ErrKeyUsed = errors.New("idempotency key used")

// Totals are a cause's running figures.
type Totals struct {
	Total     int64 `json:"total"`
	Donations int64 `json:"donations"`
	Donors    int64 `json:"donors"`
}

// Settings of the supermarket.
type Settings struct {
	PickupWindow time.Duration // goods unfulfilled this long expire (30 days)
	LockAfter    int           // wrong pickup codes before a redemption locks (5)
	CatalogTTL   time.Duration // how long the catalog is cached per container
}

// Service runs the supermarket.
type Service struct {
	store    Store
	tz       *time.Location
	now      func() time.Time
	newID    func() string
	settings Settings

	mu        sync.Mutex
	catalog   map[string]Item
	catalogAt time.Time
}

// NewService returns a Service.
func NewService(store Store, tz *time.Location, now func() time.Time, newID func() string, s Settings) *Service {
	if s.PickupWindow == 0 {
		s.PickupWindow = 30 * 24 * time.Hour
	}
	if s.LockAfter == 0 {
		s.LockAfter = 5
	}
	if s.CatalogTTL == 0 {
		s.CatalogTTL = 30 * time.Second
	}
	return &Service{store: store, tz: tz, now: now, newID: newID, settings: s}
}

// missReread is how soon after a read of the catalog an unknown item id makes it read again.
const missReread = time.Second

// item returns a catalog item from the per-container cache (the redemption's transaction checks that it is
// still on sale, so a stale cache cannot sell a retired item).
func (s *Service) item(ctx context.Context, id string) (Item, error) {
	s.mu.Lock()
	fresh := s.catalog != nil && ttl.Fresh(s.catalogAt, s.now(), s.settings.CatalogTTL)
	it, ok := s.catalog[id]
	s.mu.Unlock()
	if fresh && ok {
		return it, nil
	}
	// An id the cached catalog does not know may be an item an admin has just added: read the catalog
	// again, unless it was read within missReread (unknown ids cost at most one read a second).
	if fresh && ttl.Fresh(s.catalogAt, s.now(), missReread) {
		return Item{}, ErrItemNotFound
	}
	items, err := s.store.Items(ctx)
	if err != nil {
		return Item{}, err
	}
	m := make(map[string]Item, len(items))
	for _, x := range items {
		m[x.ID] = x
	}
	s.mu.Lock()
	s.catalog, s.catalogAt = m, s.now()
	s.mu.Unlock()
	if it, ok := m[id]; ok {
		return it, nil
	}
	return Item{}, ErrItemNotFound
}

// Request is a redemption request. Quantity and Amount are pointers so that a field sent as 0 (refused) is
// told apart from one left out (goods default to one).
type Request struct {
	ItemID   string `json:"itemId"`
	Quantity *int64 `json:"quantity,omitempty"`
	Amount   *int64 `json:"amount,omitempty"`
}

// maxAmount bounds one donation or credit purchase, in points.
const maxAmount = 100_000

// one reports whether an optional quantity is absent or exactly 1.
func one(q *int64) bool { return q == nil || *q == 1 }

// amountIn reports whether an amount is present and within [lo, hi].
func amountIn(a *int64, lo, hi int64) bool { return a != nil && *a >= lo && *a <= hi }

// Redeem redeems for p. body is the raw request (its hash binds the key). One TransactWriteItems; at most
// one read (a cause's donor marker, or the stored result of a used key). Sharded goods are the exception
// described at place.
func (s *Service) Redeem(ctx context.Context, p auth.Principal, key string, body []byte, req Request) (Redemption, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Redemption{}, err
	}
	if err := idem.ValidateKey(key); err != nil {
		return Redemption{}, err
	}
	it, err := s.item(ctx, req.ItemID)
	if err != nil {
		return Redemption{}, err
	}
	if !it.Active {
		return Redemption{}, ErrItemUnavailable
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	r := Redemption{ID: RedemptionID(p.Sub, key), Sub: p.Sub, ItemID: it.ID, Kind: it.Kind, Quantity: 1, CreatedAt: now, Status: Completed,
		BodyHash: idem.Hash(body)}
	plan := Plan{Item: it}
	switch it.Kind {
	case Goods:
		if req.Amount != nil || req.Quantity != nil && (*req.Quantity < 1 || *req.Quantity > 10) {
			return Redemption{}, ErrInvalidRequest.With("goods take a quantity of 1 to 10 and no amount")
		}
		if req.Quantity != nil {
			r.Quantity = *req.Quantity
		}
		plan.Cost = it.Cost * r.Quantity
		r.Status, r.PickupAt = Reserved, it.PickupLocation
		if r.PickupCode, err = PickupCode(); err != nil {
			return Redemption{}, err
		}
		exp := now.Add(s.settings.PickupWindow)
		r.ExpiresAt = &exp
		r.Shard = rand.IntN(it.ShardCount())
		if it.MonthlyLimit > 0 {
			plan.LimitKey, plan.LimitMax = now.In(s.tz).Format("2006-01"), it.MonthlyLimit
			r.Month, r.LimitCounted = plan.LimitKey, true
		}
	case Honor:
		if req.Amount != nil || !one(req.Quantity) {
			return Redemption{}, ErrInvalidRequest.With("an honor is bought once, without amount")
		}
		plan.Cost, r.Title = it.Cost, it.Title
		plan.LimitKey, plan.LimitMax = LimitOnce, 1
		r.Month, r.LimitCounted = LimitOnce, true
		plan.Honor = &points.EarnedHonor{Title: it.Title, At: now}
	case Charity:
		if !one(req.Quantity) || !amountIn(req.Amount, it.MinAmount, maxAmount) {
			return Redemption{}, ErrInvalidRequest.With("a donation is an amount of %d to %d points", it.MinAmount, maxAmount)
		}
		plan.Cost = *req.Amount
		donor, err := s.store.IsDonor(ctx, it.ID, p.Sub)
		if err != nil {
			return Redemption{}, err
		}
		plan.FirstGift = !donor
	case Credit:
		if !one(req.Quantity) || !amountIn(req.Amount, it.Rate, maxAmount) || *req.Amount%it.Rate != 0 {
			return Redemption{}, ErrInvalidRequest.With("credit is bought in multiples of %d points, at most %d", it.Rate, maxAmount)
		}
		plan.Cost, r.CreditUnits = *req.Amount, *req.Amount/it.Rate
	}
	r.Amount = plan.Cost
	plan.Redemption = r
	plan.Entry = points.Entry{ID: "redemption-" + r.ID, At: now, Delta: -plan.Cost, Kind: points.KindRedemption, RedemptionID: r.ID,
		Note: fmt.Sprintf("%s: %s ×%d", it.Kind, nameOf(it), r.Quantity)}

	r.Shard, err = s.place(ctx, plan)
	if used := (*UsedKeyError)(nil); errors.As(err, &used) {
		return replay(p.Sub, used.Prior, r.BodyHash)
	}
	if err != nil {
		return Redemption{}, err
	}
	return r, nil
}

// place runs the plan's transaction and returns the stock shard it took. Goods draw their shard at random
// (plan.Redemption.Shard), which spreads a hot item's writes over its shards, but a drawn shard may be
// empty while others still have stock: refusing then would answer out_of_stock for an item on sale. So a
// refusal for stock on a sharded item reads every shard's stock (one strongly consistent BatchGetItem) and
// tries the shards that still have enough, in random order, each in a transaction of its own; out_of_stock
// means every shard was short when it was looked at or tried.
//
// The trade-off: a shard cannot be chosen inside one transaction, so the tail of a sharded sale costs more
// than one call — a sold-out item 1 TransactWriteItems + 1 read per refusal, a redemption whose first shard
// was empty 2 or more TransactWriteItems + 1 read — and the shards are not checked atomically (stock a
// concurrent cancellation puts back into a shard already looked at can be missed, as if the cancellation
// came a moment later). A quantity must fit in one shard. One-shard items and the common case (the drawn
// shard has stock) stay at one transaction.
func (s *Service) place(ctx context.Context, plan Plan) (int, error) {
	err := s.redeemOnce(ctx, plan)
	if !errors.Is(err, ErrOutOfStock) || plan.Item.ShardCount() == 1 {
		return plan.Redemption.Shard, err
	}
	stocks, rerr := s.store.ShardStocks(ctx, plan.Item)
	if rerr != nil {
		return 0, rerr
	}
	drawn := plan.Redemption.Shard
	for _, n := range rand.Perm(len(stocks)) {
		if n == drawn || stocks[n] < plan.Redemption.Quantity {
			continue
		}
		plan.Redemption.Shard = n
		if err = s.redeemOnce(ctx, plan); !errors.Is(err, ErrOutOfStock) {
			return n, err
		}
	}
	return 0, err
}

// redeemOnce runs one plan's transaction, again after a transaction conflict (see onContention).
func (s *Service) redeemOnce(ctx context.Context, plan Plan) error {
	return onContention(ctx, func() error { return s.store.Redeem(ctx, plan) })
}

// contentionTries bounds how often a request path sends a write again after a transaction conflict.
const contentionTries = 3

// onContention runs write, and again (up to contentionTries in all, after a pause of 5–50 ms) while it
// fails with apperr.ErrContention: a concurrent transaction held an item (a hot stock shard, the same
// profile), nothing was written, and such conflicts last milliseconds. Every write it is given is safe to
// send twice (a redemption's key, a refund's and a fulfilment's attempt id). Throttling is not retried
// here: the SDK has backed off already, and a request path answers 503 with Retry-After instead, as it
// does when the conflicts outlast the tries.
func onContention(ctx context.Context, write func() error) error {
	var err error
	for try := range contentionTries {
		if err = write(); !errors.Is(err, apperr.ErrContention) || try == contentionTries-1 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(5+rand.IntN(45)) * time.Millisecond):
		}
	}
	return err
}

func nameOf(it Item) string {
	if it.NameZH != "" {
		return it.NameZH
	}
	return it.NameEN
}

// replay answers a used key from the redemption it made (the store returns it with the refusal, so a
// replay costs no read): the same body gets the first answer — the redemption as it was made, whatever
// happened to it since (a pickup, a cancellation) —, another body 422. The key stays bound to its
// redemption for as long as the redemption exists.
func replay(sub string, prior Redemption, bodyHash string) (Redemption, error) {
	if prior.Sub != sub || prior.BodyHash != bodyHash {
		return Redemption{}, idem.ErrKeyReused
	}
	prior.BodyHash, prior.CompletedAt, prior.Status = "", nil, Completed
	if prior.Kind == Goods {
		prior.Status = Reserved
	}
	return prior, nil
}

// Pickup is a redemption as the counter's clerk sees it before handing it over: what to hand over, where
// and until when — nothing of the citizen (not even the id the fulfil answer carries) and no code.
type Pickup struct {
	ID             string     `json:"id"`
	ItemID         string     `json:"itemId"`
	NameZH         string     `json:"nameZh,omitempty"`
	NameEN         string     `json:"nameEn,omitempty"`
	Quantity       int64      `json:"quantity"`
	Amount         int64      `json:"amount"` // points spent
	PickupLocation string     `json:"pickupLocation,omitempty"`
	Status         Status     `json:"status"`
	CreatedAt      time.Time  `json:"createdAt"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
}

// Verify is the counter's look before the handover: with the right code it answers what to hand over and
// writes nothing; a wrong code counts toward the lock exactly as a fulfilment's does (else this read would
// be an oracle to guess codes with), and a redemption that cannot be picked up is refused as Fulfil
// refuses it. Its one possible write (a wrong code's count) is conditional and names its attempt.
func (s *Service) Verify(ctx context.Context, p auth.Principal, id, code string) (Pickup, error) {
	r, err := s.pickable(ctx, p, id, code)
	if err != nil {
		return Pickup{}, err
	}
	v := Pickup{ID: r.ID, ItemID: r.ItemID, Quantity: r.Quantity, Amount: r.Amount, PickupLocation: r.PickupAt,
		Status: r.Status, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt}
	// The names come from the cached catalog; an item since removed from it still leaves its id.
	if it, err := s.item(ctx, r.ItemID); err == nil {
		v.NameZH, v.NameEN = it.NameZH, it.NameEN
	} else if !errors.Is(err, ErrItemNotFound) {
		return Pickup{}, err
	}
	return v, nil
}

// Fulfil is a clerk handing over goods against the pickup code. Exactly one of fulfil and cancel wins.
func (s *Service) Fulfil(ctx context.Context, p auth.Principal, id, code string) (Redemption, error) {
	r, err := s.pickable(ctx, p, id, code)
	if err != nil {
		return Redemption{}, err
	}
	// The attempt's id makes its one write idempotent: the SDK re-sends a write whose answer was lost.
	attempt := s.newID()
	now := s.now().UTC().Truncate(time.Millisecond)
	if err := onContention(ctx, func() error { return s.store.Complete(ctx, r, now, attempt) }); err != nil {
		return Redemption{}, err
	}
	r.Status, r.CompletedAt, r.PickupCode = Completed, &now, ""
	return r, nil
}

// pickable reads redemption id for a clerk and checks that it can be picked up with code: reserved (else
// the refusal of its status, NotFulfillable) and the code right. A wrong code is counted (once per call,
// however often the SDK sends the write) and the LockAfter-th locks the redemption.
func (s *Service) pickable(ctx context.Context, p auth.Principal, id, code string) (Redemption, error) {
	if err := p.Require(auth.Clerk); err != nil {
		return Redemption{}, err
	}
	r, err := s.store.Redemption(ctx, id)
	if err != nil {
		return Redemption{}, err
	}
	if r.Status != Reserved {
		return Redemption{}, NotFulfillable(r.Status)
	}
	if subtle.ConstantTimeCompare([]byte(code), []byte(r.PickupCode)) == 1 {
		return r, nil
	}
	attempt := s.newID()
	var locked bool
	err = onContention(ctx, func() (err error) {
		locked, err = s.store.WrongCode(ctx, r, attempt, s.settings.LockAfter)
		return err
	})
	if err != nil {
		return Redemption{}, err
	}
	if locked {
		return Redemption{}, ErrLocked
	}
	return Redemption{}, ErrWrongCode
}

// Cancel is the redeemer taking back a reservation before pickup: refund and restock, exactly once.
func (s *Service) Cancel(ctx context.Context, p auth.Principal, id string) (Redemption, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return Redemption{}, err
	}
	r, err := s.store.Redemption(ctx, id)
	if err != nil {
		return Redemption{}, err
	}
	if r.Sub != p.Sub {
		return Redemption{}, ErrNotFound
	}
	if r.Status != Reserved {
		return Redemption{}, ErrNotCancellable.With("the redemption is %s", r.Status)
	}
	return s.refund(ctx, r, Cancelled)
}

func (s *Service) refund(ctx context.Context, r Redemption, to Status) (Redemption, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	f := Refund{Redemption: r, To: to, At: now, Attempt: s.newID(), Entry: points.Entry{ID: "refund-" + r.ID, At: now, Delta: r.Amount,
		Kind: points.KindRefund, RedemptionID: r.ID, Note: fmt.Sprintf("redemption %s: %d points back", to, r.Amount)}}
	if err := onContention(ctx, func() error { return s.store.Refund(ctx, f) }); err != nil {
		return Redemption{}, err
	}
	r.Status = to
	return r, nil
}

// ExpireReservations expires goods not picked up in time, with refund and restock; it returns how many.
// A redemption locked by wrong pickup codes expires too: its goods can no longer be picked up, and it
// would otherwise hold its points and stock for ever.
//
// A redemption writes no index entry for this sweep: per goods item, the sweep walks the item's
// redemptions oldest first (the admins' by-item index) from a checkpoint before which every one is
// closed, up to those made a pickup window ago, and moves the checkpoint over the closed ones. A run
// reads the redemptions made since the window's end moved last (about a run's interval of them), not the
// open ones over and over.
//
// A refund that fails transiently (a conflict, throttling, an unknown outcome) is skipped, not fatal: the
// others go on, the checkpoint stays before the skipped one, and the error is returned at the end so the
// schedule's retry (or the next run) takes it again — safe, as a refund is conditional on the status.
func (s *Service) ExpireReservations(ctx context.Context) (int, error) {
	items, err := s.store.Items(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	n := 0
	var skipped []error
	for _, it := range items {
		if it.Kind != Goods {
			continue
		}
		done, err := s.expireItem(ctx, it.ID, now, &skipped)
		n += done
		if err != nil {
			return n, errors.Join(append(skipped, err)...)
		}
	}
	return n, errors.Join(skipped...)
}

// expireItem runs the sweep over one goods item's redemptions.
func (s *Service) expireItem(ctx context.Context, itemID string, now time.Time, skipped *[]error) (int, error) {
	from, err := s.store.PickupCheckpoint(ctx, itemID)
	if err != nil {
		return 0, err
	}
	n, through, blocked, cursor := 0, from, false, ""
	for {
		page, next, err := s.store.Reservations(ctx, itemID, from, now.Add(-s.settings.PickupWindow), 100, cursor)
		if err != nil {
			return n, err
		}
		for _, r := range page {
			if r.Status == Reserved || r.Status == Locked {
				if r.ExpiresAt != nil && r.ExpiresAt.After(now) {
					blocked = true // made under a longer pickup window: not due yet
					continue
				}
				_, err := s.refund(ctx, r.Redemption, Expired)
				switch {
				case err == nil:
					n++
				case errors.Is(err, ErrNotCancellable): // fulfilled or cancelled meanwhile
				case apperr.KindOf(err) == apperr.Unavailable && ctx.Err() == nil:
					*skipped = append(*skipped, fmt.Errorf("expire %s: %w", r.ID, err))
					blocked = true
					continue
				default:
					return n, err
				}
			}
			if !blocked {
				through = r.Pos
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if through != from {
		if err := s.store.PutPickupCheckpoint(ctx, itemID, through); err != nil {
			return n, err
		}
	}
	return n, nil
}

// CatalogEntry is an item as citizens see it.
type CatalogEntry struct {
	Item
	Availability string  `json:"availability,omitempty"` // goods: available, low, out
	Totals       *Totals `json:"totals,omitempty"`       // charity
}

// Catalog lists the items on sale: goods with availability (never the exact stock), causes with totals.
func (s *Service) Catalog(ctx context.Context) ([]CatalogEntry, error) {
	items, err := s.store.Items(ctx)
	if err != nil {
		return nil, err
	}
	var active []Item
	for _, it := range items {
		if it.Active {
			active = append(active, it)
		}
	}
	stocks, totals, err := s.store.Stocks(ctx, active)
	if err != nil {
		return nil, err
	}
	out := make([]CatalogEntry, 0, len(active))
	for _, it := range active {
		e := CatalogEntry{Item: it}
		switch it.Kind {
		case Goods:
			e.Availability = Availability(stocks[it.ID], it.Stock)
		case Charity:
			t := totals[it.ID]
			e.Totals = &t
		}
		e.Stock, e.Shards = 0, 0
		out = append(out, e)
	}
	return out, nil
}

// PutItem validates and saves an item; resetStock sets goods stock to it.Stock (a restock).
func (s *Service) PutItem(ctx context.Context, id string, it Item) (Item, error) {
	if it.ID == "" {
		it.ID = id
	}
	if it.ID != id {
		return Item{}, ErrInvalidItem.With("the body's id %q differs from the path's %q", it.ID, id)
	}
	if err := it.Validate(); err != nil {
		return Item{}, err
	}
	if err := s.store.PutItem(ctx, it, it.Kind == Goods); err != nil {
		return Item{}, err
	}
	s.mu.Lock()
	s.catalog = nil
	s.mu.Unlock()
	return it, nil
}

// GetItem returns an item for admins (with its configured stock).
func (s *Service) GetItem(ctx context.Context, id string) (Item, error) { return s.store.Item(ctx, id) }

// Mine lists the caller's redemptions, newest first (pickup codes included: they are the caller's).
func (s *Service) Mine(ctx context.Context, p auth.Principal, limit int, cursor string) ([]Redemption, string, error) {
	if err := p.Require(auth.Citizen); err != nil {
		return nil, "", err
	}
	return s.store.ByUser(ctx, p.Sub, limit, cursor)
}

// ByItem lists an item's redemptions for admins, without pickup codes.
func (s *Service) ByItem(ctx context.Context, itemID string, limit int, cursor string) ([]Redemption, string, error) {
	rs, next, err := s.store.ByItem(ctx, itemID, limit, cursor)
	for i := range rs {
		rs[i].PickupCode = ""
	}
	return rs, next, err
}
