package volunteer

import "time"

// Record kinds.
const (
	RecordConfirmed = "confirmed" // a confirmation (or a changed confirmation after a dispute) of hours
	RecordRevoked   = "revoked"   // the attendance was revoked: its hours and points are taken back
)

// Record is a service record (志愿服务记录): one immutable item per confirmation or revocation of an
// attendance, written in the same transaction as the attendance's change. It is what the accrual awards
// (or reverses) points for, what the national volunteer service system receives (a signed webhook per
// record) and exports (CSV), and what the KPI roll-up of its local day sums.
type Record struct {
	ActivityID string    `json:"activityId"`
	Sub        string    `json:"sub"`
	Revision   int64     `json:"revision"` // the attendance's revision this record made (1, 2, …)
	Kind       string    `json:"kind"`     // RecordConfirmed or RecordRevoked
	Minutes    int64     `json:"minutes"`  // the confirmed minutes after this record (0 after a revocation)
	Delta      int64     `json:"delta"`    // Minutes less the previous revision's
	PrevAt     time.Time `json:"prevAt,omitzero"`
	By         string    `json:"by"` // the confirming organiser or admin
	At         time.Time `json:"at"`
	TeamID     string    `json:"teamId"`
	Type       string    `json:"type"`
	Title      string    `json:"title"`
	Start      time.Time `json:"start"` // the activity's window, for the service record
	End        time.Time `json:"end"`
}
