package localrun

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/civicsnap/civicsnap/functions/notify/notifyfn"
)

// Citizens' pushes in the local stack go through moto's SNS for real: the stack creates one platform
// application per platform (FCM as SNS's GCM, APNs as APNS_SANDBOX) and hands their ARNs to the notify
// function as the template's parameters would; notify creates the device's platform endpoint and
// publishes to it. moto keeps what it was sent but has no API to list it, so the notify function reports
// every push SNS accepted (its ObservePushes hook, after Publish answered) to this sink:
// GET /_local/push lists them ({"items":[…]}, oldest first; ?sub= filters by user), and the endpoints
// it deleted ("deleted": a device removed, registered again with another token, or disabled).

// pushSink records the pushes SNS accepted.
type pushSink struct {
	mu    sync.Mutex
	items []notifyfn.Published
	gone  []notifyfn.Deleted
	fcm   string // platform application ARNs in moto
	apns  string
}

// maxPushes bounds the sink's memory; the oldest are dropped first.
const maxPushes = 10000

func (p *pushSink) record(pub notifyfn.Published) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.items) >= maxPushes {
		p.items = p.items[1:]
	}
	p.items = append(p.items, pub)
}

func (p *pushSink) recordDelete(d notifyfn.Deleted) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.gone) >= maxPushes {
		p.gone = p.gone[1:]
	}
	p.gone = append(p.gone, d)
}

// DeletedEndpoints returns the endpoints deleted of sub's devices (every user's when sub is empty).
func (st *Stack) DeletedEndpoints(sub string) []notifyfn.Deleted {
	st.push.mu.Lock()
	defer st.push.mu.Unlock()
	out := []notifyfn.Deleted{}
	for _, it := range st.push.gone {
		if sub == "" || it.Sub == sub {
			out = append(out, it)
		}
	}
	return out
}

// Pushes returns what was pushed to sub's devices (every user's when sub is empty).
func (st *Stack) Pushes(sub string) []notifyfn.Published {
	st.push.mu.Lock()
	defer st.push.mu.Unlock()
	out := []notifyfn.Published{}
	for _, it := range st.push.items {
		if sub == "" || it.Sub == sub {
			out = append(out, it)
		}
	}
	return out
}

func (st *Stack) servePushes(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	sub := r.URL.Query().Get("sub")
	_ = json.NewEncoder(w).Encode(map[string]any{"items": st.Pushes(sub), "deleted": st.DeletedEndpoints(sub)})
}

// createPushApps creates the platform applications in moto (idempotent: SNS answers the same ARN for the
// same name and platform).
func (st *Stack) createPushApps(ctx context.Context) error {
	client := sns.NewFromConfig(st.AWS)
	mk := func(name, platform string) (string, error) {
		out, err := client.CreatePlatformApplication(ctx, &sns.CreatePlatformApplicationInput{
			Name: aws.String(name), Platform: aws.String(platform),
			Attributes: map[string]string{"PlatformCredential": "local-credential", "PlatformPrincipal": "local-principal"},
		})
		if err != nil {
			return "", fmt.Errorf("create SNS platform application %s: %w", name, err)
		}
		return aws.ToString(out.PlatformApplicationArn), nil
	}
	var err error
	if st.push.fcm, err = mk("civicsnap-local-fcm", "GCM"); err != nil {
		return err
	}
	st.push.apns, err = mk("civicsnap-local-apns", "APNS_SANDBOX")
	return err
}

// pushEnv points a function's push parameters at the local platform applications when the template left
// them empty.
func (st *Stack) pushEnv(vars map[string]string) {
	for k, v := range map[string]string{"PUSH_FCM_APPLICATION_ARN": st.push.fcm, "PUSH_APNS_APPLICATION_ARN": st.push.apns} {
		if cur, ok := vars[k]; ok && cur == "" {
			vars[k] = v
		}
	}
}
