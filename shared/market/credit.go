package market

import (
	"encoding/json"
	"time"

	"github.com/civicsnap/civicsnap/shared/dispatch"
)

// CreditNotice is the webhook telling the city credit platform that a citizen converted points to credit
// units. Its id is stable, so a redelivered stream record sends the same message and the platform drops it.
func CreditNotice(r Redemption, at time.Time) dispatch.Notification {
	payload, _ := json.Marshal(map[string]any{
		"type": "credit.converted", "timestamp": at.UTC(),
		"data": map[string]any{"redemptionId": r.ID, "citizen": r.Sub, "units": r.CreditUnits, "points": r.Amount, "at": r.CreatedAt},
	})
	return dispatch.Notification{ID: "msg_" + r.ID + "_credit", Dept: CreditPlatform, Type: "credit.converted", Payload: payload}
}
