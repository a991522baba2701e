// Package dispatch routes reports to departments: the city's departments, areas and rules (data, edited by
// admins), the rule engine that picks a lead and assisting departments, duplicate detection by distance and
// time, and SLA deadlines.
package dispatch

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/paulmach/orb"

	"github.com/civicsnap/civicsnap/shared/apperr"
)

// CommandCenter is the id of the command center (调度中心): it takes what no rule matches and what runs late.
const CommandCenter = "command_center"

// Department is a city department that handles reports.
type Department struct {
	ID     string `json:"id"`
	NameZH string `json:"nameZh"`
	NameEN string `json:"nameEn"`
	// WebhookURL receives notifications; empty for departments that work from the staff API.
	WebhookURL string `json:"webhookUrl,omitempty"`
	// SecretRef names the department's Standard Webhooks signing secret in the secret store (never the
	// secret itself).
	SecretRef string `json:"secretRef,omitempty"`
	// SeesReporterContact grants the department the reporter's identity in its payloads.
	SeesReporterContact bool `json:"seesReporterContact"`
}

// Area is a named district, a GeoJSON Polygon or MultiPolygon in WGS-84 (lng, lat).
type Area struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Geometry json.RawMessage `json:"geometry"`
}

// Hours is a local time-of-day window "HH:MM"–"HH:MM"; To before From wraps midnight.
type Hours struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Rule routes matching reports. Empty Categories, Areas or Keywords match anything.
type Rule struct {
	ID          string   `json:"id"`
	Priority    int      `json:"priority"` // higher wins; ties go to the smaller id
	Categories  []string `json:"categories,omitempty"`
	Areas       []string `json:"areas,omitempty"`
	Keywords    []string `json:"keywords,omitempty"` // any one, case-insensitive, in the description
	Hours       *Hours   `json:"hours,omitempty"`
	Lead        string   `json:"lead"`
	Assists     []string `json:"assists,omitempty"`
	SLAHours    int      `json:"slaHours,omitempty"` // 0: the category's
	Escalation  string   `json:"escalation,omitempty"`
	Active      bool     `json:"active"`
	Description string   `json:"description,omitempty"`
}

// Errors of configuration.
var (
	ErrInvalidConfig = apperr.New(apperr.Invalid, "invalid_config", "the configuration item is not valid")
	ErrConfigMissing = apperr.New(apperr.NotFound, "config_not_found", "no such configuration item")
)

// ValidID reports whether id may name a department, area or rule: 1–64 of a–z, 0–9, '_' and '-'. The
// checks here are written by hand, not as regular expressions compiled at package init, which cost every
// function a millisecond of cold start (issue 11); config_test.go holds them equal to those patterns.
func ValidID(id string) bool {
	return len(id) >= 1 && len(id) <= 64 && strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_' || r == '-')
	}) < 0
}

// Validate checks a department.
func (d Department) Validate() error {
	if !ValidID(d.ID) || strings.TrimSpace(d.NameZH) == "" && strings.TrimSpace(d.NameEN) == "" {
		return ErrInvalidConfig.With("a department needs an id of [a-z0-9_-] and a name")
	}
	if d.WebhookURL != "" && d.SecretRef == "" {
		return ErrInvalidConfig.With("a department with a webhook URL needs a secretRef")
	}
	// The secret of department <id> is named <prefix>/dept/<id> (civicsnap/<stage>/dept/<id>): a ref to
	// anything else — another department's secret, or a name Secrets Manager cannot hold — is refused here
	// rather than failing every signed callback of the department later.
	if d.SecretRef != "" {
		prefix, ok := strings.CutSuffix(d.SecretRef, "/dept/"+d.ID)
		if !ok || !validSecretPrefix(prefix) {
			return ErrInvalidConfig.With("secretRef must be <prefix>/dept/%s, a Secrets Manager name of at most 512 characters", d.ID)
		}
	}
	return nil
}

// validSecretPrefix reports whether s may precede /dept/<id> in a secret's name: 1–400 of Secrets
// Manager's characters (A–Z, a–z, 0–9, /_+=.@-), the whole name within its 512.
func validSecretPrefix(s string) bool {
	return len(s) >= 1 && len(s) <= 400 && strings.IndexFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("/_+=.@-", r))
	}) < 0
}

// Polygon parses the area's GeoJSON geometry. Only Polygon and MultiPolygon are areas, so this reads their
// coordinates directly (orb's geojson package would link a BSON codec into every function for nothing).
func (a Area) Polygon() (orb.Geometry, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal(a.Geometry, &g); err != nil {
		return nil, ErrInvalidConfig.With("area %s: geometry is not GeoJSON: %v", a.ID, err)
	}
	switch g.Type {
	case "Polygon":
		var rings [][][2]float64
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			return nil, ErrInvalidConfig.With("area %s: polygon coordinates: %v", a.ID, err)
		}
		return toPolygon(a.ID, rings)
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil || len(polys) == 0 {
			return nil, ErrInvalidConfig.With("area %s: multipolygon coordinates are not valid", a.ID)
		}
		mp := make(orb.MultiPolygon, 0, len(polys))
		for _, rings := range polys {
			p, err := toPolygon(a.ID, rings)
			if err != nil {
				return nil, err
			}
			mp = append(mp, p)
		}
		return mp, nil
	}
	return nil, ErrInvalidConfig.With("area %s: geometry must be a Polygon or MultiPolygon", a.ID)
}

func toPolygon(id string, rings [][][2]float64) (orb.Polygon, error) {
	if len(rings) == 0 {
		return nil, ErrInvalidConfig.With("area %s: a polygon needs an outer ring", id)
	}
	p := make(orb.Polygon, len(rings))
	for i, r := range rings {
		if len(r) < 4 || r[0] != r[len(r)-1] {
			return nil, ErrInvalidConfig.With("area %s: every ring must be closed, with at least 4 positions", id)
		}
		ring := make(orb.Ring, len(r))
		for j, pt := range r {
			if pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
				return nil, ErrInvalidConfig.With("area %s: position %v is off the globe (want [lng, lat])", id, pt)
			}
			ring[j] = orb.Point{pt[0], pt[1]}
		}
		p[i] = ring
	}
	return p, nil
}

// Validate checks an area.
func (a Area) Validate() error {
	if !ValidID(a.ID) {
		return ErrInvalidConfig.With("an area needs an id of [a-z0-9_-]")
	}
	_, err := a.Polygon()
	return err
}

// Validate checks a rule against the known departments.
func (r Rule) Validate(known func(dept string) bool) error {
	if !ValidID(r.ID) {
		return ErrInvalidConfig.With("a rule needs an id of [a-z0-9_-]")
	}
	if r.Lead == "" || !known(r.Lead) {
		return ErrInvalidConfig.With("rule %s: unknown lead department %q", r.ID, r.Lead)
	}
	for _, d := range append(append([]string{}, r.Assists...), r.Escalation) {
		if d != "" && !known(d) {
			return ErrInvalidConfig.With("rule %s: unknown department %q", r.ID, d)
		}
	}
	if r.SLAHours < 0 || r.SLAHours > 24*90 {
		return ErrInvalidConfig.With("rule %s: slaHours must be 0 to 2160", r.ID)
	}
	if r.Hours != nil {
		if _, err := parseClock(r.Hours.From); err != nil {
			return ErrInvalidConfig.With("rule %s: hours.from: %v", r.ID, err)
		}
		if _, err := parseClock(r.Hours.To); err != nil {
			return ErrInvalidConfig.With("rule %s: hours.to: %v", r.ID, err)
		}
	}
	return nil
}

// parseClock reads "HH:MM" as minutes after midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || hh == 24 && mm != 0 {
		return 0, fmt.Errorf("%q is not HH:MM", s)
	}
	return hh*60 + mm, nil
}

// contains reports whether local time t falls in the window.
func (h Hours) contains(t time.Time) bool {
	from, _ := parseClock(h.From)
	to, _ := parseClock(h.To)
	now := t.Hour()*60 + t.Minute()
	if from <= to {
		return now >= from && now < to
	}
	return now >= from || now < to // wraps midnight
}
