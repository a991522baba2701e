package notifyfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/shared/notify"
)

// SNS mobile push: each device's token becomes a platform endpoint of the platform's application
// (CreatePlatformEndpoint is idempotent for a token it already has with the same attributes, so it is
// called per push instead of storing endpoint ARNs), then one Publish to that endpoint. Only this
// function links the SNS client (the thin signed-HTTP layer for query-protocol APIs was not there yet).

// snsAPI is the part of the SNS client used here.
type snsAPI interface {
	CreatePlatformEndpoint(ctx context.Context, in *sns.CreatePlatformEndpointInput, opts ...func(*sns.Options)) (*sns.CreatePlatformEndpointOutput, error)
	Publish(ctx context.Context, in *sns.PublishInput, opts ...func(*sns.Options)) (*sns.PublishOutput, error)
	DeleteEndpoint(ctx context.Context, in *sns.DeleteEndpointInput, opts ...func(*sns.Options)) (*sns.DeleteEndpointOutput, error)
}

// Published is one push that SNS accepted (what the local stack's push sink lists).
type Published struct {
	Sub         string        `json:"sub"`
	DeviceID    string        `json:"deviceId"`
	Platform    string        `json:"platform"`
	EndpointArn string        `json:"endpointArn"`
	MessageID   string        `json:"messageId"`
	Notice      notify.Notice `json:"notice"`
	Message     string        `json:"message"`
}

// Deleted is one endpoint deleted (a device removed, registered again with another token, or disabled).
type Deleted struct {
	Sub         string `json:"sub"`
	DeviceID    string `json:"deviceId"`
	Platform    string `json:"platform"`
	EndpointArn string `json:"endpointArn"`
	Reason      string `json:"reason"` // "unregistered" or "disabled"
}

// snsPusher pushes through SNS; apps maps a platform to its platform application ARN.
type snsPusher struct {
	client        snsAPI
	apps          map[notify.Platform]string
	observe       func(Published)
	observeDelete func(Deleted)
}

var errNoApplication = errors.New("no platform application for the device's platform")

// Push publishes n to d.
func (p *snsPusher) Push(ctx context.Context, d notify.Device, n notify.Notice) error {
	app := p.apps[d.Platform]
	if app == "" {
		return errNoApplication
	}
	arn, err := p.endpoint(ctx, app, d.Token)
	if err != nil {
		return err
	}
	msg, err := pushMessage(d.Platform, n)
	if err != nil {
		return err
	}
	out, err := p.client.Publish(ctx, &sns.PublishInput{TargetArn: &arn, Message: &msg, MessageStructure: aws.String("json")})
	if apiCode(err) == "EndpointDisabled" {
		// The platform refused the token (uninstalled app, expired token): SNS will not deliver to it
		// again. The endpoint is deleted and the device forgotten (Inbox.Push), so a token the app
		// registers anew gets a fresh endpoint.
		if derr := p.delete(ctx, n.Sub, d, arn, "disabled"); derr != nil {
			return fmt.Errorf("publish: %w; %w", err, derr)
		}
		return fmt.Errorf("publish to %s: %w (%v)", arn, notify.ErrEndpointDisabled, err)
	}
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	if p.observe != nil {
		p.observe(Published{Sub: n.Sub, DeviceID: d.ID, Platform: string(d.Platform), EndpointArn: arn, MessageID: aws.ToString(out.MessageId), Notice: n, Message: msg})
	}
	return nil
}

// existingEndpoint finds the endpoint ARN in SNS's refusal of CreatePlatformEndpoint for a token it has
// under other attributes (a disabled endpoint: "Endpoint <arn> already exists with the same Token, but
// different attributes"), the way AWS's guide to mobile push endpoints recovers it.
var existingEndpoint = regexp.MustCompile(`Endpoint (arn:[^ ]+) already exists with the same [Tt]oken`)

// endpoint returns the ARN of the token's endpoint under app (created when there is none: SNS answers the
// same endpoint for the same token).
func (p *snsPusher) endpoint(ctx context.Context, app, token string) (string, error) {
	ep, err := p.client.CreatePlatformEndpoint(ctx, &sns.CreatePlatformEndpointInput{PlatformApplicationArn: &app, Token: &token})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() == "InvalidParameter" {
			if m := existingEndpoint.FindStringSubmatch(ae.ErrorMessage()); m != nil {
				return m[1], nil
			}
		}
		return "", fmt.Errorf("create platform endpoint: %w", err)
	}
	return aws.ToString(ep.EndpointArn), nil
}

// delete deletes an endpoint (idempotent in SNS: an endpoint already gone is no error).
func (p *snsPusher) delete(ctx context.Context, sub string, d notify.Device, arn, reason string) error {
	if _, err := p.client.DeleteEndpoint(ctx, &sns.DeleteEndpointInput{EndpointArn: &arn}); err != nil {
		return fmt.Errorf("delete endpoint: %w", err)
	}
	if p.observeDelete != nil {
		p.observeDelete(Deleted{Sub: sub, DeviceID: d.ID, Platform: string(d.Platform), EndpointArn: arn, Reason: reason})
	}
	return nil
}

// Forget deletes the endpoint of a device token no longer registered. A platform without an application
// has no endpoints to delete.
func (p *snsPusher) Forget(ctx context.Context, r notify.EndpointRemoval) error {
	app := p.apps[r.Device.Platform]
	if app == "" {
		return nil
	}
	arn, err := p.endpoint(ctx, app, r.Device.Token)
	if err != nil {
		return err
	}
	return p.delete(ctx, r.Sub, r.Device, arn, "unregistered")
}

// apiCode is the AWS error code of err ("" when it is none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// pushMessage is the SNS message (MessageStructure json): a title and body for the lock screen and the
// notice's ids as data, in the platform's own format.
func pushMessage(pf notify.Platform, n notify.Notice) (string, error) {
	title, body := text(n)
	data := map[string]string{"notificationId": n.ID, "kind": string(n.Kind)}
	if n.ReportID != "" {
		data["reportId"] = n.ReportID
	}
	if n.RedemptionID != "" {
		data["redemptionId"] = n.RedemptionID
	}
	var inner any
	key := "GCM"
	switch pf {
	case notify.APNs:
		key = "APNS"
		aps := map[string]any{"aps": map[string]any{"alert": map[string]string{"title": title, "body": body}}}
		for k, v := range data {
			aps[k] = v
		}
		inner = aps
	default:
		inner = map[string]any{"notification": map[string]string{"title": title, "body": body}, "data": data}
	}
	b, err := json.Marshal(inner)
	if err != nil {
		return "", err
	}
	m := map[string]string{"default": title + ": " + body, key: string(b)}
	if pf == notify.APNs {
		m["APNS_SANDBOX"] = string(b) // an application in the APNs sandbox reads this key
	}
	out, err := json.Marshal(m)
	return string(out), err
}

// text is a notice's lock-screen text (Chinese, the app's language).
func text(n notify.Notice) (title, body string) {
	switch n.Kind {
	case notify.ReportDispatched:
		return "问题已派发", "您反映的问题已转交相关部门处理"
	case notify.ReportAccepted:
		return "问题已受理", "相关部门已受理您反映的问题"
	case notify.ReportResolved:
		body = "您反映的问题已处理完毕，请查看处理结果"
		if n.Points > 0 {
			body += "，获得 " + strconv.FormatInt(n.Points, 10) + " 积分"
		}
		return "问题已办结", body
	case notify.ReportReopened:
		return "问题已重新办理", "您反映的问题已退回部门重新处理"
	case notify.PointsAwarded:
		return "获得积分", "您确认的问题已办结，获得 " + strconv.FormatInt(n.Points, 10) + " 积分"
	case notify.PickupReady:
		return "兑换成功", "您兑换的物品可以领取了"
	case notify.PickupExpiring:
		return "即将过期", "您兑换的物品即将过期，请尽快领取"
	}
	return "通知", string(n.Kind)
}
