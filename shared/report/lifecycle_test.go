package report

import (
	"errors"
	"testing"
)

func TestNext(t *testing.T) {
	proof := []string{"k"}
	tests := []struct {
		name    string
		from    Status
		role    Role
		cc      bool
		c       Change
		want    Status
		wantErr error
	}{
		{"accept dispatched", Dispatched, Lead, false, Change{Action: Accept}, Accepted, nil},
		{"accept twice", Accepted, Lead, false, Change{Action: Accept}, "", ErrInvalidTransition},
		{"progress from accepted", Accepted, Lead, false, Change{Action: Progress, Note: "crew on site"}, InProgress, nil},
		{"progress from dispatched", Dispatched, Lead, false, Change{Action: Progress}, InProgress, nil},
		{"resolve with proof", InProgress, Lead, false, Change{Action: Resolve, ProofPhotoKeys: proof}, Resolved, nil},
		{"resolve without proof", InProgress, Lead, false, Change{Action: Resolve}, "", ErrProofRequired},
		{"resolve before accepting", Dispatched, Lead, false, Change{Action: Resolve, ProofPhotoKeys: proof}, "", ErrInvalidTransition},
		{"resolve resolved", Resolved, Lead, false, Change{Action: Resolve, ProofPhotoKeys: proof}, "", ErrInvalidTransition},
		{"assist resolves", InProgress, Assist, false, Change{Action: Resolve, ProofPhotoKeys: proof}, "", ErrNotLead},
		{"assist accepts", Dispatched, Assist, false, Change{Action: Accept}, "", ErrNotLead},
		{"assist note", InProgress, Assist, false, Change{Action: Progress, Note: "traffic diverted"}, InProgress, nil},
		{"assist empty note", InProgress, Assist, false, Change{Action: Progress}, "", ErrNoteRequired},
		{"reject invalid", Accepted, Lead, false, Change{Action: Reject, Reason: ReasonInvalid}, Rejected, nil},
		{"reject duplicate", Dispatched, Lead, false, Change{Action: Reject, Reason: ReasonDuplicate}, Duplicate, nil},
		{"reject not ours", Dispatched, Lead, false, Change{Action: Reject, Reason: ReasonNotOurs}, NeedsTriage, nil},
		{"reject without reason", Dispatched, Lead, false, Change{Action: Reject}, "", ErrInvalidReason},
		{"command center not ours", NeedsTriage, Lead, true, Change{Action: Reject, Reason: ReasonNotOurs}, "", ErrInvalidTransition},
		{"command center reassigns", NeedsTriage, Lead, true, Change{Action: Reassign, ToDept: "x"}, Dispatched, nil},
		{"department reassigns", Dispatched, Lead, false, Change{Action: Reassign, ToDept: "x"}, "", ErrNotLead},
		{"command center rejects invalid", NeedsTriage, Lead, true, Change{Action: Reject, Reason: ReasonInvalid}, Rejected, nil},
		{"anything on a submitted report", Submitted, Lead, false, Change{Action: Accept}, "", ErrInvalidTransition},
		{"anything on a revoked report", Revoked, Lead, false, Change{Action: Progress, Note: "x"}, "", ErrInvalidTransition},
		{"accept reopened", Reopened, Lead, false, Change{Action: Accept}, Accepted, nil},
		{"progress on reopened", Reopened, Lead, false, Change{Action: Progress, Note: "back on site"}, InProgress, nil},
		{"resolve reopened before accepting", Reopened, Lead, false, Change{Action: Resolve, ProofPhotoKeys: proof}, "", ErrInvalidTransition},
		{"reject reopened as invalid", Reopened, Lead, false, Change{Action: Reject, Reason: ReasonInvalid}, Rejected, nil},
		{"unknown action", Dispatched, Lead, false, Change{Action: "teleport"}, "", ErrUnknownAction},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Next(tt.from, tt.role, tt.cc, tt.c)
			if !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("status = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAfterAnswer(t *testing.T) {
	tests := []struct {
		name    string
		from    Status
		a       Answer
		want    Status
		wantErr error
	}{
		{"confirm resolved", Resolved, Confirmed, Resolved, nil},
		{"window ends", Resolved, AutoConfirmed, Resolved, nil},
		{"contest resolved", Resolved, Contested, Reopened, nil},
		{"contest reopened", Reopened, Contested, "", ErrNotResolved},
		{"confirm in progress", InProgress, Confirmed, "", ErrNotResolved},
		{"confirm revoked", Revoked, Confirmed, "", ErrNotResolved},
		{"unknown answer", Resolved, "maybe", "", ErrInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AfterAnswer(tt.from, tt.a)
			if !errors.Is(err, tt.wantErr) && !(err == nil && tt.wantErr == nil) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("status = %q, want %q", got, tt.want)
			}
		})
	}
}
