package notify

// A citizen's notifications: an inbox item per business event and user, written once (its id and key are
// derived from the event, and the put is conditional), and a push through the user's registered devices
// when the user's preferences ask for the kind, held until the user's quiet hours end.
//
// The path stays within the table's two stream consumers: dispatch and accrual map the transitions they
// already see to notices (Post: the inbox put, then, only for a user with devices who wants the kind, one
// push message on the outbox), and the notify function, which already consumes the outbox, pushes (Push).
// Only the notify function links the SNS client.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// Kind is what a notice tells.
type Kind string

// Kinds of notices.
const (
	ReportDispatched Kind = "report.dispatched"
	ReportAccepted   Kind = "report.accepted"
	ReportResolved   Kind = "report.resolved" // with the proof photo, the points and honors it earned
	ReportReopened   Kind = "report.reopened"
	PointsAwarded    Kind = "points.awarded" // a confirmation award to a duplicate's reporter
	PickupReady      Kind = "redemption.ready"
	PickupExpiring   Kind = "redemption.expiring"
)

// Kinds lists every kind, in the order the preferences show them.
var Kinds = []Kind{ReportDispatched, ReportAccepted, ReportResolved, ReportReopened, PointsAwarded, PickupReady, PickupExpiring}

// Retention is how long a notice stays in the inbox (the item's TTL).
const Retention = 90 * 24 * time.Hour

// MaxDevices bounds a user's registered devices (and so the push message and the settings item).
const MaxDevices = 10

// PushType is the outbox message type of a push (the departments' webhooks have the others).
const PushType = "user.push"

// Notice is one notification in a user's inbox. Every field is bounded (ids, a photo key, a few
// honor titles), so an item stays well under 1 KB.
type Notice struct {
	ID             string     `json:"id"`
	Sub            string     `json:"-"`
	Kind           Kind       `json:"kind"`
	At             time.Time  `json:"at"`
	ReportID       string     `json:"reportId,omitempty"`
	Category       string     `json:"category,omitempty"`
	Dept           string     `json:"dept,omitempty"`
	ProofPhotoKey  string     `json:"proofPhotoKey,omitempty"`
	Points         int64      `json:"points,omitempty"`
	Honors         []string   `json:"honors,omitempty"`
	RedemptionID   string     `json:"redemptionId,omitempty"`
	ItemID         string     `json:"itemId,omitempty"`
	PickupLocation string     `json:"pickupLocation,omitempty"`
	ExpiresAt      *time.Time `json:"expiresAt,omitempty"`
	Read           bool       `json:"read"`
}

// NoticeID is a notice's id: the event's time in milliseconds (13 digits, so ids sort by time) and a hash
// of the user, the kind, the entity and the time. The same event delivered again makes the same id.
func NoticeID(sub string, kind Kind, entity string, at time.Time) string {
	h := sha256.Sum256([]byte(sub + "\x00" + string(kind) + "\x00" + entity + "\x00" + at.UTC().Format(time.RFC3339Nano)))
	return fmt.Sprintf("%013d-%s", max(at.UnixMilli(), 0), hex.EncodeToString(h[:10]))
}

// ValidNoticeID reports whether id has NoticeID's shape (13 digits, '-', 20 hex digits).
func ValidNoticeID(id string) bool {
	if len(id) != 34 || id[13] != '-' {
		return false
	}
	for i := range len(id) {
		c := id[i]
		switch {
		case i < 13 && '0' <= c && c <= '9':
		case i > 13 && ('0' <= c && c <= '9' || 'a' <= c && c <= 'f'):
		case i == 13:
		default:
			return false
		}
	}
	return true
}

// Platform is a push service.
type Platform string

// Platforms SNS mobile push serves here.
const (
	FCM  Platform = "fcm"
	APNs Platform = "apns"
)

// Device is a registered push token.
type Device struct {
	ID        string    `json:"id"`
	Platform  Platform  `json:"platform"`
	Token     string    `json:"token"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// QuietHours is a daily window, in the city's time zone, in which pushes are held: a push due in it is
// sent when it ends (never dropped; the inbox has the notice at once). Start == End means none.
type QuietHours struct {
	Start string `json:"start"` // "HH:MM"
	End   string `json:"end"`   // "HH:MM"; before Start means the window spans midnight
}

// Preferences are a user's choices.
type Preferences struct {
	// Push says per kind whether it is pushed; a kind left out is pushed.
	Push       map[Kind]bool `json:"push"`
	QuietHours *QuietHours   `json:"quietHours"`
}

// UserSettings is what the store keeps per user besides the notices: preferences, devices and the
// mark-all-read watermark (a notice id: every notice up to it is read).
type UserSettings struct {
	Preferences Preferences
	Devices     []Device
	ReadThrough string
}

// Errors of the notification routes.
var (
	ErrNoticeNotFound  = apperr.New(apperr.NotFound, "notification_not_found", "no such notification")
	ErrDeviceNotFound  = apperr.New(apperr.NotFound, "device_not_found", "no such device")
	ErrInvalidDevice   = apperr.New(apperr.Invalid, "invalid_device", "the device is not valid")
	ErrTooManyDevices  = apperr.New(apperr.Conflict, "too_many_devices", "at most 10 devices per user")
	ErrInvalidPrefs    = apperr.New(apperr.Invalid, "invalid_preferences", "the preferences are not valid")
	ErrInvalidReadMark = apperr.New(apperr.Invalid, "invalid_read_mark", "the read mark is not valid")
)

// Validate checks a device registration (the id is the path's, already bounded).
func (d Device) Validate() error {
	if d.Platform != FCM && d.Platform != APNs {
		return ErrInvalidDevice.With("platform must be fcm or apns")
	}
	// FCM registration tokens are ~160-250 characters, APNs device tokens 64 hex digits; SNS takes up to
	// 4 KB for some platforms, but nothing here needs more than 512.
	if len(d.Token) < 8 || len(d.Token) > 512 || strings.ContainsFunc(d.Token, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return ErrInvalidDevice.With("token must be 8-512 printable ASCII characters")
	}
	return nil
}

// Validate checks preferences.
func (p Preferences) Validate() error {
	for k := range p.Push {
		if !knownKind(k) {
			return ErrInvalidPrefs.With("unknown kind %q", k)
		}
	}
	if q := p.QuietHours; q != nil {
		if _, ok := clock(q.Start); !ok {
			return ErrInvalidPrefs.With("quietHours.start must be HH:MM")
		}
		if _, ok := clock(q.End); !ok {
			return ErrInvalidPrefs.With("quietHours.end must be HH:MM")
		}
	}
	return nil
}

func knownKind(k Kind) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Wants reports whether the kind is pushed.
func (p Preferences) Wants(k Kind) bool {
	on, set := p.Push[k]
	return on || !set
}

// clock parses "HH:MM" into minutes after midnight.
func clock(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	d := func(c byte) int { return int(c - '0') }
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h, m := d(s[0])*10+d(s[1]), d(s[3])*10+d(s[4])
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// HeldUntil returns when a push due at now may go out: now, or the end of the quiet hours that now is in
// (local wall-clock time in tz; a window that spans midnight ends the next day).
func (q *QuietHours) HeldUntil(now time.Time, tz *time.Location) time.Time {
	if q == nil {
		return now
	}
	start, ok1 := clock(q.Start)
	end, ok2 := clock(q.End)
	if !ok1 || !ok2 || start == end {
		return now
	}
	local := now.In(tz)
	y, mo, d := local.Date()
	mins := local.Hour()*60 + local.Minute()
	at := func(dayOffset, m int) time.Time {
		return time.Date(y, mo, d+dayOffset, m/60, m%60, 0, 0, tz)
	}
	switch {
	case start < end && mins >= start && mins < end:
		return at(0, end)
	case start > end && mins >= start:
		return at(1, end)
	case start > end && mins < end:
		return at(0, end)
	}
	return now
}

// InboxStore keeps inboxes and settings.
type InboxStore interface {
	// PutNotice writes n unless its id is taken; created says whether it wrote, pushed whether the stored
	// notice (this or the earlier one) has been pushed.
	PutNotice(ctx context.Context, n Notice, expires time.Time) (created, pushed bool, err error)
	// Notices returns a page of sub's notices, newest first, leaving out those expired at now.
	Notices(ctx context.Context, sub string, limit int, cursor string, now time.Time) ([]Notice, string, error)
	// UnreadCount counts sub's unread notices newer than readThrough and not expired at now, looking at
	// most at max of them.
	UnreadCount(ctx context.Context, sub, readThrough string, max int, now time.Time) (int, error)
	MarkRead(ctx context.Context, sub, id string, at time.Time) error
	MarkReadThrough(ctx context.Context, sub, id string) error
	// Settings reads sub's settings and devices; consistent reads what was just written (the routes),
	// an eventually consistent read costs half (posting: a device registered within the last second may
	// miss one push).
	Settings(ctx context.Context, sub string, consistent bool) (UserSettings, error)
	PutPreferences(ctx context.Context, sub string, p Preferences) error
	// PutDevice registers d or replaces sub's device of its id; a new device beyond MaxDevices is
	// ErrTooManyDevices however many registrations run at once, and one sent twice counts once.
	PutDevice(ctx context.Context, sub string, d Device) error
	DeleteDevice(ctx context.Context, sub, id string) error
	// ForgetDevice removes sub's device id if it still has token (a device registered again with another
	// token since is kept); removing one that is gone is no error.
	ForgetDevice(ctx context.Context, sub, id, token string) error
	// ClaimPush marks the notice pushed by claim unless another claim has; false when one has (or the
	// notice is gone). The same claim again (a re-sent request) succeeds again.
	ClaimPush(ctx context.Context, sub, id, claim string) (bool, error)
	// ReleasePush undoes a claim whose pushes all failed, so a retry may push.
	ReleasePush(ctx context.Context, sub, id string) error
}

// Outbox queues push messages (the notify function's queue).
type Outbox interface {
	EnqueuePush(ctx context.Context, m PushMessage) error
}

// Pusher sends one notice to one device (SNS mobile push). An error that wraps ErrEndpointDisabled says
// the push service will not deliver to the device again (its token is invalid or was unregistered).
type Pusher interface {
	Push(ctx context.Context, d Device, n Notice) error
}

// ErrEndpointDisabled is what a Pusher's error wraps when the push service reports the device's endpoint
// disabled (SNS's EndpointDisabled: the platform refused the token): the device is removed from its
// user's devices.
var ErrEndpointDisabled = errors.New("push endpoint disabled")

// PushMessage is the outbox message of a push: the notice, the devices to reach and when it may go out.
type PushMessage struct {
	Sub       string    `json:"sub"`
	Notice    Notice    `json:"notice"`
	Devices   []Device  `json:"devices"`
	NotBefore time.Time `json:"notBefore"`
}

// Inbox posts notices and pushes them.
type Inbox struct {
	store  InboxStore
	outbox Outbox
	pusher Pusher
	tz     *time.Location
	now    func() time.Time
}

// NewInbox returns an Inbox. outbox is needed to Post, pusher to Push; either may be nil otherwise.
func NewInbox(store InboxStore, outbox Outbox, pusher Pusher, tz *time.Location, now func() time.Time) *Inbox {
	return &Inbox{store: store, outbox: outbox, pusher: pusher, tz: tz, now: now}
}

// Post writes n to its user's inbox once and, when the user has devices and wants the kind pushed, queues
// one push (again after a redelivery that finds the notice not yet pushed: Push claims before it sends, so
// a second message pushes nothing).
func (in *Inbox) Post(ctx context.Context, n Notice) error {
	if n.Sub == "" || n.ID == "" {
		return errors.New("notice without a user or an id")
	}
	_, pushed, err := in.store.PutNotice(ctx, n, n.At.Add(Retention))
	if err != nil {
		return fmt.Errorf("put notice %s: %w", n.ID, err)
	}
	if pushed {
		return nil
	}
	s, err := in.store.Settings(ctx, n.Sub, false)
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	if len(s.Devices) == 0 || !s.Preferences.Wants(n.Kind) {
		return nil
	}
	m := PushMessage{Sub: n.Sub, Notice: n, Devices: s.Devices, NotBefore: s.Preferences.QuietHours.HeldUntil(in.now(), in.tz)}
	if err := in.outbox.EnqueuePush(ctx, m); err != nil {
		return fmt.Errorf("queue push %s: %w", n.ID, err)
	}
	return nil
}

// Push sends a push message's notice to its devices, once: it claims the notice first (a second message
// for it, or a redelivery, sends nothing), and releases the claim when every device failed, so a retry
// can push. A message due later (quiet hours) is held: Retry with After up to its time, nothing claimed.
// A push lost between the claim and the send stays in the inbox (at most once, never twice).
func (in *Inbox) Push(ctx context.Context, m PushMessage) (Decision, error) {
	now := in.now()
	if wait := m.NotBefore.Sub(now); wait > 0 {
		return Decision{Retry: true, After: wait}, nil
	}
	// The claim names this attempt (time and 64 random bits): concurrent deliveries of two messages for
	// one notice claim with different names, so exactly one wins, while an SDK re-send of this claim
	// carries the same name and is not taken for another's.
	ok, err := in.store.ClaimPush(ctx, m.Sub, m.Notice.ID, now.UTC().Format(time.RFC3339Nano)+"#"+strconv.FormatUint(rand.Uint64(), 16))
	if err != nil || !ok {
		return Decision{}, err
	}
	var errs []error
	gone := 0
	for _, d := range m.Devices {
		err := in.pusher.Push(ctx, d, m.Notice)
		if errors.Is(err, ErrEndpointDisabled) {
			// The platform will never deliver to this token: forget the device (only while it still has
			// this token), so no later notice is queued for it.
			if ferr := in.store.ForgetDevice(ctx, m.Sub, d.ID, d.Token); ferr != nil {
				err = errors.Join(err, fmt.Errorf("forget device: %w", ferr))
			} else {
				gone++
				continue
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("device %s: %w", d.ID, err))
		}
	}
	if len(errs)+gone < len(m.Devices) || len(errs) == 0 {
		return Decision{}, nil // pushed to some device, or none is left to try: not again
	}
	if err := in.store.ReleasePush(ctx, m.Sub, m.Notice.ID); err != nil {
		return Decision{}, err
	}
	return Decision{Retry: true}, errors.Join(errs...)
}

// MaxUnreadCounted bounds the unread count: a count reads at most this many notices (clients show "99+").
const MaxUnreadCounted = 100

// Page is a page of an inbox.
type Page struct {
	Items       []Notice `json:"items"`
	NextCursor  string   `json:"nextCursor"`
	UnreadCount int      `json:"unreadCount"`
}

// List returns a page of sub's notices, newest first, with the number of unread notices (at most
// MaxUnreadCounted): the settings (the read watermark), the page and the count, three Queries.
func (in *Inbox) List(ctx context.Context, sub string, limit int, cursor string) (Page, error) {
	s, err := in.store.Settings(ctx, sub, true)
	if err != nil {
		return Page{}, err
	}
	now := in.now()
	items, next, err := in.store.Notices(ctx, sub, limit, cursor, now)
	if err != nil {
		return Page{}, err
	}
	unread, err := in.store.UnreadCount(ctx, sub, s.ReadThrough, MaxUnreadCounted, now)
	if err != nil {
		return Page{}, err
	}
	for i := range items {
		items[i].Read = items[i].Read || s.ReadThrough != "" && items[i].ID <= s.ReadThrough
	}
	if items == nil {
		items = []Notice{}
	}
	return Page{Items: items, NextCursor: next, UnreadCount: unread}, nil
}

// MarkRead marks one of sub's notices read; an id sub has no notice by is notification_not_found.
func (in *Inbox) MarkRead(ctx context.Context, sub, id string) error {
	if !ValidNoticeID(id) {
		return ErrNoticeNotFound
	}
	return in.store.MarkRead(ctx, sub, id, in.now())
}

// MarkAllRead marks every notice of sub's at or before through read (one write, whatever their number).
func (in *Inbox) MarkAllRead(ctx context.Context, sub string, through time.Time) error {
	if through.IsZero() || through.UnixMilli() < 0 || through.UnixMilli() > 9999999999999 {
		return ErrInvalidReadMark.With("before must be a time")
	}
	return in.store.MarkReadThrough(ctx, sub, fmt.Sprintf("%013d-%s", through.UnixMilli(), strings.Repeat("f", 20)))
}

// Preferences returns sub's preferences, every kind listed (those never set as pushed).
func (in *Inbox) Preferences(ctx context.Context, sub string) (Preferences, error) {
	s, err := in.store.Settings(ctx, sub, true)
	if err != nil {
		return Preferences{}, err
	}
	p := Preferences{Push: make(map[Kind]bool, len(Kinds)), QuietHours: s.Preferences.QuietHours}
	for _, k := range Kinds {
		p.Push[k] = s.Preferences.Wants(k)
	}
	return p, nil
}

// SetPreferences replaces sub's preferences after checking them.
func (in *Inbox) SetPreferences(ctx context.Context, sub string, p Preferences) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return in.store.PutPreferences(ctx, sub, p)
}

// RegisterDevice registers (or updates) one of sub's devices.
func (in *Inbox) RegisterDevice(ctx context.Context, sub string, d Device) (Device, error) {
	if err := d.Validate(); err != nil {
		return Device{}, err
	}
	d.UpdatedAt = in.now().UTC()
	return d, in.store.PutDevice(ctx, sub, d)
}

// RemoveDevice removes one of sub's devices; an id sub has none by is device_not_found.
func (in *Inbox) RemoveDevice(ctx context.Context, sub, id string) error {
	return in.store.DeleteDevice(ctx, sub, id)
}
