package dynamostore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/volunteer"
)

// Volunteers (志愿圈), README "Volunteers":
//
//	profile     pk=VOL#<sub>   sk=PROFILE          gsi3 VOLREG#<local day created>/<sub>;
//	                                                gsi4 VOLVER#<local day verified>/<sub> once verified
//	team        pk=TEAM#<id>   sk=TEAM             gsi1 TEAMS/<kind>#<id>
//	membership  pk=TEAM#<id>   sk=MEMBER#<sub>
//	activity    pk=ACT#<id>    sk=ACT              gsi1 ACTS#<local day of start>/<geohash6>#<start>#<id>;
//	                                                gsi2 TEAMACTS#<teamId>/<start>#<id>
//	sign-up     pk=ACT#<id>    sk=SIGNUP#<sub>     gsi2 VOLACTS#<sub>/<start>#<activityId>
//	waiter      pk=ACT#<id>    sk=WAIT#<position, 12 digits>
//
// The contract named gsi5pk/gsi5sk for the team's and the volunteer's activities; the table's gsi5 is keyed
// on reporterSub/createdAt (a citizen's reports), so those two lists use gsi2 (its keys are always projected;
// the list reads the items themselves with BatchGetItem).

func volPK(sub string) string    { return "VOL#" + sub }
func teamPK(id string) string    { return "TEAM#" + id }
func actPK(id string) string     { return "ACT#" + id }
func signupSK(sub string) string { return "SIGNUP#" + sub }
func waitSK(pos int64) string    { return fmt.Sprintf("WAIT#%012d", pos) }
func memberSK(sub string) string { return "MEMBER#" + sub }
func keyOf(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

// placeAttr is an activity's place as stored (a map; the polygon as its GeoJSON text).
type placeAttr struct {
	Name     string  `dynamodbav:"name,omitempty"`
	Lat      float64 `dynamodbav:"lat"`
	Lng      float64 `dynamodbav:"lng"`
	RadiusM  int     `dynamodbav:"radiusM,omitempty"`
	Geometry string  `dynamodbav:"geometry,omitempty"`
}

// activityItem is an activity as stored.
type activityItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	Type        string    `dynamodbav:"type"`
	ID          string    `dynamodbav:"id"`
	TeamID      string    `dynamodbav:"teamId"`
	AType       string    `dynamodbav:"atype"`
	Title       string    `dynamodbav:"title"`
	Description string    `dynamodbav:"description,omitempty"`
	Start       string    `dynamodbav:"start"`
	End         string    `dynamodbav:"end"`
	Place       placeAttr `dynamodbav:"place"`
	Capacity    int       `dynamodbav:"capacity"`
	Skills      []string  `dynamodbav:"skills,omitempty"`
	SeriesID    string    `dynamodbav:"seriesId,omitempty"`
	AStatus     string    `dynamodbav:"astatus"`
	SignedUp    int       `dynamodbav:"signedUp"`
	Waitlisted  int       `dynamodbav:"waitlisted"`
	WaitSeq     int64     `dynamodbav:"waitSeq"`
	Organiser   string    `dynamodbav:"organiser"`
	CreatedAt   string    `dynamodbav:"createdAt"`
	Secret      []byte    `dynamodbav:"secret,omitempty"`
	GSI1PK      string    `dynamodbav:"gsi1pk,omitempty"`
	GSI1SK      string    `dynamodbav:"gsi1sk,omitempty"`
	GSI2PK      string    `dynamodbav:"gsi2pk,omitempty"`
	GSI2SK      string    `dynamodbav:"gsi2sk,omitempty"`
}

func (it activityItem) activity() volunteer.Activity {
	a := volunteer.Activity{
		ID: it.ID, TeamID: it.TeamID, Type: it.AType, Title: it.Title, Description: it.Description,
		Start: parseTime(it.Start), End: parseTime(it.End), Capacity: it.Capacity, Skills: it.Skills,
		SeriesID: it.SeriesID, Status: it.AStatus, SignedUp: it.SignedUp, Waitlisted: it.Waitlisted,
		Organiser: it.Organiser, CreatedAt: parseTime(it.CreatedAt), Secret: it.Secret,
		Place: volunteer.Place{Name: it.Place.Name, Lat: it.Place.Lat, Lng: it.Place.Lng, RadiusM: it.Place.RadiusM},
	}
	if it.Place.Geometry != "" {
		a.Place.Geometry = json.RawMessage(it.Place.Geometry)
	}
	return a
}

// signupItem is a sign-up as stored.
type signupItem struct {
	PK         string `dynamodbav:"pk"`
	SK         string `dynamodbav:"sk"`
	Type       string `dynamodbav:"type"`
	ActivityID string `dynamodbav:"activityId"`
	Sub        string `dynamodbav:"sub"`
	SStatus    string `dynamodbav:"sstatus"`
	Position   int64  `dynamodbav:"position,omitempty"`
	At         string `dynamodbav:"at"`
	Start      string `dynamodbav:"start"`
	GSI2PK     string `dynamodbav:"gsi2pk"`
	GSI2SK     string `dynamodbav:"gsi2sk"`
}

func (it signupItem) signup() volunteer.Signup {
	return volunteer.Signup{ActivityID: it.ActivityID, Sub: it.Sub, Status: it.SStatus, Position: it.Position, At: parseTime(it.At)}
}

// teamItem is a team as stored.
type teamItem struct {
	PK         string   `dynamodbav:"pk"`
	SK         string   `dynamodbav:"sk"`
	Type       string   `dynamodbav:"type"`
	ID         string   `dynamodbav:"id"`
	Name       string   `dynamodbav:"name"`
	Kind       string   `dynamodbav:"kind"`
	Organisers []string `dynamodbav:"organisers,stringset,omitempty"`
	CreatedAt  string   `dynamodbav:"createdAt"`
	GSI1PK     string   `dynamodbav:"gsi1pk"`
	GSI1SK     string   `dynamodbav:"gsi1sk"`
}

func (it teamItem) team() volunteer.Team {
	return volunteer.Team{ID: it.ID, Name: it.Name, Kind: it.Kind, Organisers: nonNil(it.Organisers), CreatedAt: parseTime(it.CreatedAt)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// getItem reads one item strongly consistently into v; it reports whether the item exists.
func (s *Store) getItem(ctx context.Context, op, pk, sk string, v any) (bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: keyOf(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return false, translate(op, err)
	}
	if out.Item == nil {
		return false, nil
	}
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return false, fmt.Errorf("%s: decode: %w", op, err)
	}
	return true, nil
}

// Activity returns an activity with its secret (volunteer.ErrActivityNotFound when there is none).
func (s *Store) Activity(ctx context.Context, id string) (volunteer.Activity, error) {
	var it activityItem
	ok, err := s.getItem(ctx, "get activity "+id, actPK(id), "ACT", &it)
	if err != nil {
		return volunteer.Activity{}, err
	}
	if !ok || it.Type != "activity" {
		return volunteer.Activity{}, volunteer.ErrActivityNotFound
	}
	return it.activity(), nil
}

// Signup returns sub's sign-up of an activity, whatever its status (volunteer.ErrNotSignedUp when there is
// none).
func (s *Store) Signup(ctx context.Context, activityID, sub string) (volunteer.Signup, error) {
	var it signupItem
	ok, err := s.getItem(ctx, "get sign-up", actPK(activityID), signupSK(sub), &it)
	if err != nil {
		return volunteer.Signup{}, err
	}
	if !ok {
		return volunteer.Signup{}, volunteer.ErrNotSignedUp
	}
	return it.signup(), nil
}

// Team returns a team (volunteer.ErrTeamNotFound when there is none).
func (s *Store) Team(ctx context.Context, id string) (volunteer.Team, error) {
	var it teamItem
	ok, err := s.getItem(ctx, "get team "+id, teamPK(id), "TEAM", &it)
	if err != nil {
		return volunteer.Team{}, err
	}
	if !ok {
		return volunteer.Team{}, volunteer.ErrTeamNotFound
	}
	return it.team(), nil
}
