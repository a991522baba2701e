package builders

import (
	"context"
	"time"

	"github.com/civicsnap/civicsnap/shared/auth"
	"github.com/civicsnap/civicsnap/shared/idem"
)

// Organised transfers (劳务输出): an admin records a batch of workers sent to an employer elsewhere; the
// `transfer` record (N = the headcount) is written with it, once per Idempotency-Key.

// MaxTransferDays bounds a transfers listing's date range.
const MaxTransferDays = 366

// TransferStore keeps transfers.
type TransferStore interface {
	// PutTransfer writes t and its record in one transaction; a transfer of that id written before answers
	// the stored one (created false) when bodyHash is the same, idem.ErrKeyReused otherwise.
	PutTransfer(ctx context.Context, t Transfer, bodyHash string) (Transfer, bool, error)
	// Transfers returns up to limit transfers departing on the local days from..to, in date order.
	Transfers(ctx context.Context, from, to string, limit int) ([]Transfer, error)
}

// TransferInput is what an admin records.
type TransferInput struct {
	Employer    string `json:"employer"`
	Destination string `json:"destination"`
	Trade       string `json:"trade,omitempty"`
	Headcount   int    `json:"headcount"`
	Date        string `json:"date"`
	Note        string `json:"note,omitempty"`
}

// Check validates a transfer.
func (in TransferInput) Check() (TransferInput, error) {
	var err error
	if in.Employer, err = fairText("employer", in.Employer, MaxName, true); err != nil {
		return in, err
	}
	if in.Destination, err = fairText("destination", in.Destination, MaxName, true); err != nil {
		return in, err
	}
	if in.Note, err = fairText("note", in.Note, MaxText, false); err != nil {
		return in, err
	}
	if in.Trade != "" && !IsTrade(in.Trade) {
		return in, ErrUnknownTrade
	}
	if in.Headcount < 1 || in.Headcount > MaxTransfer {
		return in, ErrInvalid.With("headcount must be 1 to %d", MaxTransfer)
	}
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		return in, ErrInvalid.With("date must be a date YYYY-MM-DD")
	}
	return in, nil
}

// RecordTransfer records an organised transfer (admin; Idempotency-Key); created says whether this
// request did.
func (s *FairService) RecordTransfer(ctx context.Context, p auth.Principal, key string, body []byte, in TransferInput) (Transfer, bool, error) {
	if err := p.Require(auth.Admin); err != nil {
		return Transfer{}, false, err
	}
	if err := idem.ValidateKey(key); err != nil {
		return Transfer{}, false, err
	}
	in, err := in.Check()
	if err != nil {
		return Transfer{}, false, err
	}
	t := Transfer{ID: idemID("transfer", p.Sub, key), Employer: in.Employer, Destination: in.Destination,
		Trade: in.Trade, Headcount: in.Headcount, Date: in.Date, Note: in.Note, By: p.Sub, CreatedAt: s.clock()}
	return s.store.PutTransfer(ctx, t, idem.Hash(body))
}

// Transfers lists the transfers departing from..to (local days; default: the last 30 days to today), at
// most MaxPageSize (admin).
func (s *FairService) Transfers(ctx context.Context, p auth.Principal, from, to string) ([]Transfer, error) {
	if err := p.Require(auth.Admin); err != nil {
		return nil, err
	}
	today := s.now().In(s.tz)
	f, t := today.AddDate(0, 0, -30), today
	var err error
	if from != "" {
		if f, err = time.Parse(time.DateOnly, from); err != nil {
			return nil, ErrInvalid.With("from must be a date YYYY-MM-DD")
		}
	}
	if to != "" {
		if t, err = time.Parse(time.DateOnly, to); err != nil {
			return nil, ErrInvalid.With("to must be a date YYYY-MM-DD")
		}
	}
	fd, td := f.Format(time.DateOnly), t.Format(time.DateOnly)
	if fd > td {
		return nil, ErrInvalid.With("from must not be after to")
	}
	return s.store.Transfers(ctx, fd, td, MaxPageSize)
}
