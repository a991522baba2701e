package market

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The "about to expire" walk: goods reserved for pickup whose pickup window ends within a lead time get
// one notice before the expiry sweep refunds them. It reuses the expiry sweep's walk — a goods item's
// redemptions oldest first on the by-item index (Store.Reservations), so a redemption writes no index
// entry for it — with a checkpoint of its own, ahead of the sweep's by the lead time: a run reads the
// redemptions made since the previous run's bound moved (about a run's interval of them), never the open
// ones over and over, whatever the item's history.

// WarnCheckpoints keeps the walk's position per goods item: every redemption at or before it has been
// warned (or needed no warning).
type WarnCheckpoints interface {
	// ExpiryWarningCheckpoint returns the position ("" before the walk's first run over the item).
	ExpiryWarningCheckpoint(ctx context.Context, itemID string) (string, error)
	// PutExpiryWarningCheckpoint moves it forward to pos (never back).
	PutExpiryWarningCheckpoint(ctx context.Context, itemID, pos string) error
}

// WarnExpiring calls warn once per walk for each goods redemption still reserved whose pickup ends
// within lead of now and has not ended yet (a locked one can no longer be picked up; a completed,
// cancelled or expired one needs nothing). warn must be safe to call twice for one redemption (a run
// that fails before its checkpoint moves is followed by one that calls it again): the inbox's
// conditional put is. It returns how many it called warn for.
//
// A warn that fails is skipped, not fatal: the others go on, the checkpoint stays before it, and the
// errors are returned at the end so the schedule's retry (or the next run) takes it again.
func (s *Service) WarnExpiring(ctx context.Context, cp WarnCheckpoints, lead time.Duration, warn func(context.Context, Redemption) error) (int, error) {
	if lead <= 0 || lead >= s.settings.PickupWindow {
		return 0, fmt.Errorf("expiry notice lead %s: want more than 0 and less than the pickup window %s", lead, s.settings.PickupWindow)
	}
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
		done, err := s.warnItem(ctx, cp, it.ID, lead, now, warn, &skipped)
		n += done
		if err != nil {
			return n, errors.Join(append(skipped, err)...)
		}
	}
	return n, errors.Join(skipped...)
}

func (s *Service) warnItem(ctx context.Context, cp WarnCheckpoints, itemID string, lead time.Duration, now time.Time,
	warn func(context.Context, Redemption) error, skipped *[]error) (int, error) {
	from, err := cp.ExpiryWarningCheckpoint(ctx, itemID)
	if err != nil {
		return 0, err
	}
	if from == "" {
		// The walk's first run over the item starts where the expiry sweep stands: everything before
		// that is closed.
		if from, err = s.store.PickupCheckpoint(ctx, itemID); err != nil {
			return 0, err
		}
	}
	n, through, blocked, cursor := 0, from, false, ""
	for {
		page, next, err := s.store.Reservations(ctx, itemID, from, now.Add(lead-s.settings.PickupWindow), 100, cursor)
		if err != nil {
			return n, err
		}
		for _, r := range page {
			if r.Status == Reserved && r.ExpiresAt != nil && r.ExpiresAt.After(now) {
				if r.ExpiresAt.Sub(now) > lead {
					blocked = true // made under a longer pickup window: not due yet
					continue
				}
				if err := warn(ctx, r.Redemption); err != nil {
					if ctx.Err() != nil {
						return n, err
					}
					*skipped = append(*skipped, fmt.Errorf("warn %s: %w", r.ID, err))
					blocked = true
					continue
				}
				n++
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
		if err := cp.PutExpiryWarningCheckpoint(ctx, itemID, through); err != nil {
			return n, err
		}
	}
	return n, nil
}
