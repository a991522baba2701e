package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/mmcloughlin/geohash"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/idem"
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

// volunteerItem is a volunteer profile as stored.
type volunteerItem struct {
	Sub        string   `dynamodbav:"sub"`
	Name       string   `dynamodbav:"name"`
	Skills     []string `dynamodbav:"skills"`
	Area       string   `dynamodbav:"area"`
	Teams      []string `dynamodbav:"teams,stringset"`
	Verified   bool     `dynamodbav:"verified"`
	VerifiedBy string   `dynamodbav:"verifiedBy"`
	VerifiedAt string   `dynamodbav:"verifiedAt"`
	CreatedAt  string   `dynamodbav:"createdAt"`
}

func (it volunteerItem) volunteer() volunteer.Volunteer {
	teams := nonNil(it.Teams)
	slices.Sort(teams)
	return volunteer.Volunteer{
		Sub: it.Sub, Name: it.Name, Skills: nonNil(it.Skills), Area: it.Area, Teams: teams, Verified: it.Verified,
		VerifiedBy: it.VerifiedBy, VerifiedAt: parseTime(it.VerifiedAt), CreatedAt: parseTime(it.CreatedAt),
	}
}

func decodeVolunteer(op string, raw map[string]types.AttributeValue) (volunteer.Volunteer, error) {
	var it volunteerItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return volunteer.Volunteer{}, fmt.Errorf("%s: decode: %w", op, err)
	}
	return it.volunteer(), nil
}

func skillsAttr(skills []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(skills))
	for i, s := range skills {
		l[i] = str(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

// Volunteer returns sub's profile (volunteer.ErrNotVolunteer when there is none).
func (s *Store) Volunteer(ctx context.Context, sub string) (volunteer.Volunteer, error) {
	var it volunteerItem
	ok, err := s.getItem(ctx, "get volunteer", volPK(sub), "PROFILE", &it)
	if err != nil {
		return volunteer.Volunteer{}, err
	}
	if !ok {
		return volunteer.Volunteer{}, volunteer.ErrNotVolunteer
	}
	return it.volunteer(), nil
}

// PutVolunteer creates the profile or sets its name, skills and area: one UpdateItem whose creation-only
// attributes (createdAt, the registration day's gsi3 entry, verified) are if_not_exists, so applying it
// twice is applying it once.
func (s *Store) PutVolunteer(ctx context.Context, v volunteer.Volunteer) (volunteer.Volunteer, error) {
	set := "SET #type = :type, #sub = :sub, #name = :name, skills = :skills, createdAt = if_not_exists(createdAt, :c), " +
		"gsi3pk = if_not_exists(gsi3pk, :g3pk), gsi3sk = :sub, verified = if_not_exists(verified, :false)"
	vals := map[string]types.AttributeValue{
		":type": str("volunteer"), ":sub": str(v.Sub), ":name": str(v.Name), ":skills": skillsAttr(v.Skills),
		":c": str(timeKey(v.CreatedAt)), ":g3pk": str("VOLREG#" + s.dayKey(v.CreatedAt)), ":false": &types.AttributeValueMemberBOOL{Value: false},
	}
	expr := set
	if v.Area != "" {
		expr += ", area = :area"
		vals[":area"] = str(v.Area)
	} else {
		expr += " REMOVE area"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(volPK(v.Sub), "PROFILE"), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames:  map[string]string{"#type": "type", "#sub": "sub", "#name": "name"},
		ExpressionAttributeValues: vals, ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return volunteer.Volunteer{}, translate("put volunteer", err)
	}
	return decodeVolunteer("put volunteer", out.Attributes)
}

// VerifyVolunteer marks a profile verified and files it under the day's gsi4 VOLVER# entry, once: a
// profile verified already is answered as it is.
func (s *Store) VerifyVolunteer(ctx context.Context, sub, by string, at time.Time) (volunteer.Volunteer, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(volPK(sub), "PROFILE"),
		UpdateExpression:    aws.String("SET verified = :true, verifiedBy = :by, verifiedAt = :at, gsi4pk = :g4pk, gsi4sk = :sub"),
		ConditionExpression: aws.String("attribute_exists(pk) AND verified = :false"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":true": &types.AttributeValueMemberBOOL{Value: true}, ":false": &types.AttributeValueMemberBOOL{Value: false},
			":by": str(by), ":at": str(timeKey(at)), ":g4pk": str("VOLVER#" + s.dayKey(at)), ":sub": str(sub),
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if _, ok := conditionFailed(err); ok {
		return s.Volunteer(ctx, sub)
	}
	if err != nil {
		return volunteer.Volunteer{}, translate("verify volunteer", err)
	}
	return decodeVolunteer("verify volunteer", out.Attributes)
}

// PutTeam creates a team or replaces its name, kind and organisers (its gsi1 entry follows the kind).
func (s *Store) PutTeam(ctx context.Context, t volunteer.Team) (volunteer.Team, error) {
	expr := "SET #type = :type, id = :id, #name = :name, kind = :kind, createdAt = if_not_exists(createdAt, :c), gsi1pk = :g1pk, gsi1sk = :g1sk"
	vals := map[string]types.AttributeValue{
		":type": str("team"), ":id": str(t.ID), ":name": str(t.Name), ":kind": str(t.Kind), ":c": str(timeKey(t.CreatedAt)),
		":g1pk": str("TEAMS"), ":g1sk": str(t.Kind + "#" + t.ID),
	}
	if len(t.Organisers) > 0 {
		expr += ", organisers = :orgs"
		vals[":orgs"] = &types.AttributeValueMemberSS{Value: t.Organisers}
	} else {
		expr += " REMOVE organisers"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(teamPK(t.ID), "TEAM"), UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#name": "name"}, ExpressionAttributeValues: vals,
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return volunteer.Team{}, translate("put team", err)
	}
	var it teamItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return volunteer.Team{}, fmt.Errorf("put team: decode: %w", err)
	}
	return it.team(), nil
}

// Teams lists the teams by kind and id (one Query on gsi1 TEAMS, paged).
func (s *Store) Teams(ctx context.Context) ([]volunteer.Team, error) {
	var items []teamItem
	err := s.queryAll(ctx, "list teams", &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("TEAMS")},
	}, &items)
	if err != nil {
		return nil, err
	}
	out := make([]volunteer.Team, len(items))
	for i, it := range items {
		out[i] = it.team()
	}
	return out, nil
}

// queryAll runs a Query to its last page and decodes every item into out (a pointer to a slice).
func (s *Store) queryAll(ctx context.Context, op string, in *dynamodb.QueryInput, out any) error {
	var raw []map[string]types.AttributeValue
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return translate(op, err)
		}
		raw = append(raw, page.Items...)
		if page.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if err := attributevalue.UnmarshalListOfMaps(raw, out); err != nil {
		return fmt.Errorf("%s: decode: %w", op, err)
	}
	return nil
}

// failed returns the indexes of a cancelled transaction's items whose condition failed (nil when err is
// not a cancelled transaction).
func failed(err error) map[int]bool {
	reasons := cancellationReasons(err)
	if reasons == nil {
		return nil
	}
	out := map[int]bool{}
	for i, r := range reasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			out[i] = true
		}
	}
	return out
}

// Join adds sub to a team: the membership item and the team's id in the profile's set, in one
// transaction (the set's size bounds the teams). A membership that exists answers the profile.
func (s *Store) Join(ctx context.Context, teamID, sub string, at time.Time) (volunteer.Volunteer, error) {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
			"pk": str(teamPK(teamID)), "sk": str(memberSK(sub)), "type": str("member"), "sub": str(sub), "at": str(timeKey(at)),
		}, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(volPK(sub), "PROFILE"),
			UpdateExpression:          aws.String("ADD teams :t"),
			ConditionExpression:       aws.String("attribute_exists(pk) AND (attribute_not_exists(teams) OR size(teams) < :max)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{teamID}}, ":max": num(volunteer.MaxTeams)}}},
	}})
	if f := failed(err); f != nil && len(f) > 0 {
		v, rerr := s.Volunteer(ctx, sub)
		switch {
		case rerr != nil:
			return volunteer.Volunteer{}, rerr
		case f[0] || slices.Contains(v.Teams, teamID):
			return v, nil
		default:
			return volunteer.Volunteer{}, volunteer.ErrTooManyTeams
		}
	}
	if err != nil {
		return volunteer.Volunteer{}, translate("join team", err)
	}
	return s.Volunteer(ctx, sub)
}

// Leave removes sub from a team (a membership that is gone answers the profile as it is).
func (s *Store) Leave(ctx context.Context, teamID, sub string) (volunteer.Volunteer, error) {
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Delete: &types.Delete{TableName: &s.table, Key: keyOf(teamPK(teamID), memberSK(sub)), ConditionExpression: aws.String("attribute_exists(pk)")}},
		{Update: &types.Update{TableName: &s.table, Key: keyOf(volPK(sub), "PROFILE"), UpdateExpression: aws.String("DELETE teams :t"),
			ConditionExpression:       aws.String("attribute_exists(pk)"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberSS{Value: []string{teamID}}}}},
	}})
	if f := failed(err); f == nil && err != nil {
		return volunteer.Volunteer{}, translate("leave team", err)
	}
	return s.Volunteer(ctx, sub)
}

// newActivityItem is a's item as first written.
func (s *Store) newActivityItem(a volunteer.Activity, bodyHash string) (map[string]types.AttributeValue, error) {
	start := timeKey(a.Start)
	it := activityItem{
		PK: actPK(a.ID), SK: "ACT", Type: "activity", ID: a.ID, TeamID: a.TeamID, AType: a.Type, Title: a.Title,
		Description: a.Description, Start: start, End: timeKey(a.End), Capacity: a.Capacity, Skills: a.Skills,
		SeriesID: a.SeriesID, AStatus: a.Status, Organiser: a.Organiser, CreatedAt: timeKey(a.CreatedAt), Secret: a.Secret,
		Place:  placeAttr{Name: a.Place.Name, Lat: a.Place.Lat, Lng: a.Place.Lng, RadiusM: a.Place.RadiusM, Geometry: string(a.Place.Geometry)},
		GSI1PK: "ACTS#" + s.dayKey(a.Start), GSI1SK: geohash.EncodeWithPrecision(a.Place.Lat, a.Place.Lng, volunteer.PlaceHashPrecision) + "#" + start + "#" + a.ID,
		GSI2PK: "TEAMACTS#" + a.TeamID, GSI2SK: start + "#" + a.ID,
	}
	m, err := attributevalue.MarshalMap(it)
	if err != nil {
		return nil, err
	}
	m["bodyHash"] = str(bodyHash)
	return m, nil
}

// PublishActivities writes a publication's activities in one transaction (MaxOccurrences ≤ 100 items),
// each conditional on its absence. A publication written before (its Idempotency-Key used) answers the
// stored activities when the body is the same, idem.ErrKeyReused otherwise.
func (s *Store) PublishActivities(ctx context.Context, acts []volunteer.Activity, bodyHash string) ([]volunteer.Activity, error) {
	items := make([]types.TransactWriteItem, len(acts))
	for i, a := range acts {
		m, err := s.newActivityItem(a, bodyHash)
		if err != nil {
			return nil, fmt.Errorf("publish: encode: %w", err)
		}
		items[i] = types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: m, ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	if f := failed(err); len(f) > 0 {
		return s.published(ctx, acts, bodyHash)
	}
	if err != nil {
		return nil, translate("publish activities", err)
	}
	return acts, nil
}

// published reads a publication's stored activities (its Idempotency-Key used again).
func (s *Store) published(ctx context.Context, acts []volunteer.Activity, bodyHash string) ([]volunteer.Activity, error) {
	keys := make([]map[string]types.AttributeValue, len(acts))
	for i, a := range acts {
		keys[i] = keyOf(actPK(a.ID), "ACT")
	}
	var items []struct {
		activityItem
		BodyHash string `dynamodbav:"bodyHash"`
	}
	if err := s.batchGetAll(ctx, "read publication", keys, &items); err != nil {
		return nil, err
	}
	byID := map[string]volunteer.Activity{}
	for _, it := range items {
		if it.BodyHash != bodyHash {
			return nil, idem.ErrKeyReused
		}
		byID[it.ID] = it.activity()
	}
	out := make([]volunteer.Activity, 0, len(acts))
	for _, a := range acts {
		got, ok := byID[a.ID]
		if !ok {
			// Not one transaction's work: another publication holds these ids.
			return nil, idem.ErrKeyReused
		}
		out = append(out, got)
	}
	return out, nil
}

// ActivitiesOn returns the activities of a local day, those under the geohash prefixes cells (each a
// Query on gsi1 ACTS#<day> with begins_with), or the whole day when cells is empty.
func (s *Store) ActivitiesOn(ctx context.Context, day string, cells []string) ([]volunteer.Activity, error) {
	if len(cells) == 0 {
		cells = []string{""}
	}
	var out []volunteer.Activity
	for _, c := range cells {
		in := &dynamodb.QueryInput{
			TableName: &s.table, IndexName: aws.String("gsi1"), KeyConditionExpression: aws.String("gsi1pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("ACTS#" + day)},
		}
		if c != "" {
			in.KeyConditionExpression = aws.String("gsi1pk = :pk AND begins_with(gsi1sk, :c)")
			in.ExpressionAttributeValues[":c"] = str(c)
		}
		var items []activityItem
		if err := s.queryAll(ctx, "list activities", in, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, it.activity())
		}
	}
	return out, nil
}

// CancelActivity marks an activity cancelled.
func (s *Store) CancelActivity(ctx context.Context, id string) (volunteer.Activity, error) {
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: keyOf(actPK(id), "ACT"), UpdateExpression: aws.String("SET astatus = :c"),
		ConditionExpression:       aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(volunteer.ActivityCancelled)},
		ReturnValues:              types.ReturnValueAllNew,
	})
	if _, ok := conditionFailed(err); ok {
		return volunteer.Activity{}, volunteer.ErrActivityNotFound
	}
	if err != nil {
		return volunteer.Activity{}, translate("cancel activity", err)
	}
	var it activityItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return volunteer.Activity{}, fmt.Errorf("cancel activity: decode: %w", err)
	}
	return it.activity(), nil
}

// Sign-ups (README "Volunteers", the sign-up and waitlist rules). The activity item counts the places
// taken (signedUp), the waiters (waitlisted) and the waitlist's positions handed out (waitSeq); a place
// changes hands only in a transaction with the change of those counters, conditional on them, so the
// activity never holds more than its capacity however many sign up at once, and a waiter moves up only
// when a place is given up.

// maxSignupRounds bounds the retries of a sign-up or a cancellation that lost a race (a place taken or
// given up, a waiter moved up by another cancellation) before it answers contention.
const maxSignupRounds = 100

// signupPut is the Put of sub's sign-up of a with status (and position for a waiter): conditional on no
// sign-up, or a cancelled one (signing up again after a cancellation is a new sign-up).
func (s *Store) signupPut(a volunteer.Activity, sub, status string, pos int64, at time.Time) *types.Put {
	start := timeKey(a.Start)
	item := map[string]types.AttributeValue{
		"pk": str(actPK(a.ID)), "sk": str(signupSK(sub)), "type": str("signup"), "activityId": str(a.ID), "sub": str(sub),
		"sstatus": str(status), "at": str(timeKey(at)), "start": str(start),
		"gsi2pk": str("VOLACTS#" + sub), "gsi2sk": str(start + "#" + a.ID),
	}
	if pos > 0 {
		item["position"] = num(pos)
	}
	return &types.Put{TableName: &s.table, Item: item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR sstatus = :cancelled"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":cancelled": str(volunteer.Cancelled)}}
}

// SignUp takes a place in a, or a place in its waitlist:
//  1. one transaction: the activity's signedUp + 1 if it is open, not over and not full; the sign-up
//     (signed_up) if there is none.
//  2. when full (as a was read, or as 1 found it): waitSeq + 1 (the position), then one transaction:
//     waitlisted + 1 if still full; the sign-up (waitlisted, position); the WAIT#<position> entry. A
//     place given up meanwhile → 1 again.
//
// The caller checked sub's profile (ActivityWithSignup): profiles are never deleted.
//
// A sign-up that exists is answered as it is (created false).
func (s *Store) SignUp(ctx context.Context, a volunteer.Activity, sub string, at time.Time) (volunteer.Signup, bool, error) {
	key := keyOf(actPK(a.ID), "ACT")
	// The activity as read says whether it was full: then the waitlist first (its own condition sends a
	// sign-up back here when a place has come free meanwhile).
	full := a.SignedUp >= a.Capacity
	for range maxSignupRounds {
		if full {
			su, created, done, err := s.joinWaitlist(ctx, a, sub, at)
			if done || err != nil {
				return su, created, err
			}
			full = false
		}
		_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Update: &types.Update{TableName: &s.table, Key: key, UpdateExpression: aws.String("SET signedUp = signedUp + :one"),
				ConditionExpression:      aws.String("astatus = :open AND signedUp < #capacity AND #end > :now"),
				ExpressionAttributeNames: map[string]string{"#end": "end", "#capacity": "capacity"},
				ExpressionAttributeValues: map[string]types.AttributeValue{
					":one": num(1), ":open": str(volunteer.ActivityOpen), ":now": str(timeKey(at))}}},
			{Put: s.signupPut(a, sub, volunteer.SignedUp, 0, at)},
		}})
		f := failed(err)
		switch {
		case err == nil:
			return volunteer.Signup{ActivityID: a.ID, Sub: sub, Status: volunteer.SignedUp, At: at.UTC().Truncate(time.Millisecond)}, true, nil
		case f == nil || len(f) == 0:
			return volunteer.Signup{}, false, translate("sign up", err)
		case f[1]:
			su, err := s.Signup(ctx, a.ID, sub)
			return su, false, err
		}
		full = true // or closed: the waitlist's own condition tells
	}
	return volunteer.Signup{}, false, apperr.ErrContention.Wrap(fmt.Errorf("sign up %s: %d rounds", a.ID, maxSignupRounds))
}

// joinWaitlist is step 2 of SignUp; done false when a place came free (step 1 again).
func (s *Store) joinWaitlist(ctx context.Context, a volunteer.Activity, sub string, at time.Time) (su volunteer.Signup, created, done bool, err error) {
	key := keyOf(actPK(a.ID), "ACT")
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: &s.table, Key: key, UpdateExpression: aws.String("ADD waitSeq :one"),
		ConditionExpression:      aws.String("astatus = :open AND #end > :now AND waitlisted < :maxw"),
		ExpressionAttributeNames: map[string]string{"#end": "end"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":open": str(volunteer.ActivityOpen), ":now": str(timeKey(at)), ":maxw": num(volunteer.MaxWaitlist)},
		ReturnValues:                        types.ReturnValueUpdatedNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if ccf, ok := conditionFailed(err); ok {
		if su, err := s.Signup(ctx, a.ID, sub); err == nil && su.Status != volunteer.Cancelled {
			return su, false, true, nil
		}
		// The waitlist is bounded (MaxWaitlist), so an activity's sign-ups — the organiser's list — are too.
		var old struct {
			Status     string `dynamodbav:"astatus"`
			End        string `dynamodbav:"end"`
			Waitlisted int    `dynamodbav:"waitlisted"`
		}
		if attributevalue.UnmarshalMap(ccf.Item, &old) == nil && old.Status == volunteer.ActivityOpen &&
			old.End > timeKey(at) && old.Waitlisted >= volunteer.MaxWaitlist {
			return volunteer.Signup{}, false, true, volunteer.ErrWaitlistFull
		}
		return volunteer.Signup{}, false, true, volunteer.ErrActivityClosed
	}
	if err != nil {
		return volunteer.Signup{}, false, true, translate("take a waitlist position", err)
	}
	var seq struct {
		WaitSeq int64 `dynamodbav:"waitSeq"`
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &seq); err != nil || seq.WaitSeq < 1 {
		return volunteer.Signup{}, false, true, fmt.Errorf("take a waitlist position: no waitSeq in the answer (%v)", err)
	}
	pos := seq.WaitSeq
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: &s.table, Key: key, UpdateExpression: aws.String("ADD waitlisted :one"),
			ConditionExpression:       aws.String("signedUp >= #capacity"),
			ExpressionAttributeNames:  map[string]string{"#capacity": "capacity"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":one": num(1)}}},
		{Put: s.signupPut(a, sub, volunteer.Waitlisted, pos, at)},
		{Put: &types.Put{TableName: &s.table, Item: map[string]types.AttributeValue{
			"pk": str(actPK(a.ID)), "sk": str(waitSK(pos)), "type": str("wait"), "sub": str(sub)},
			ConditionExpression: aws.String("attribute_not_exists(pk)")}},
	}})
	f := failed(err)
	switch {
	case err == nil:
		return volunteer.Signup{ActivityID: a.ID, Sub: sub, Status: volunteer.Waitlisted, Position: pos, At: at.UTC().Truncate(time.Millisecond)}, true, true, nil
	case f == nil || len(f) == 0:
		return volunteer.Signup{}, false, true, translate("join the waitlist", err)
	case f[1] || f[2]:
		su, err := s.Signup(ctx, a.ID, sub)
		return su, false, true, err
	}
	return volunteer.Signup{}, false, false, nil // a place came free
}

// CancelSignup cancels sub's sign-up of an activity. A waiter leaves the waitlist (its WAIT# entry
// deleted, waitlisted − 1). A holder of a place gives it to the first waiter (a consistent Query of the
// first WAIT#; one transaction: the sign-up cancelled if signed_up, the waiter's signed_up if still
// waiting at that position, the entry deleted, waitlisted − 1), or with no waiter frees it (signedUp − 1
// if waitlisted = 0, so a waiter who joined meanwhile is never passed over). A lost race (a condition
// fails) reads again and retries, up to maxSignupRounds. A cancelled sign-up is answered as it is.
func (s *Store) CancelSignup(ctx context.Context, activityID, sub string) (volunteer.Signup, error) {
	actKey := keyOf(actPK(activityID), "ACT")
	cancelled := str(volunteer.Cancelled)
	for round := range maxSignupRounds {
		su, err := s.Signup(ctx, activityID, sub)
		if err != nil || su.Status == volunteer.Cancelled {
			return su, err
		}
		mine := types.TransactWriteItem{Update: &types.Update{TableName: &s.table, Key: keyOf(actPK(activityID), signupSK(sub)),
			UpdateExpression: aws.String("SET sstatus = :cancelled REMOVE #position"), ConditionExpression: aws.String("sstatus = :was"),
			ExpressionAttributeNames:  map[string]string{"#position": "position"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":cancelled": cancelled, ":was": str(su.Status)}}}
		var items []types.TransactWriteItem
		switch su.Status {
		case volunteer.Waitlisted:
			items = []types.TransactWriteItem{mine,
				{Delete: &types.Delete{TableName: &s.table, Key: keyOf(actPK(activityID), waitSK(su.Position)), ConditionExpression: aws.String("attribute_exists(pk)")}},
				{Update: &types.Update{TableName: &s.table, Key: actKey, UpdateExpression: aws.String("ADD waitlisted :minus"),
					ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)}}},
			}
		default: // signed_up
			first, err := s.db.Query(ctx, &dynamodb.QueryInput{
				TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :w)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(actPK(activityID)), ":w": str("WAIT#")},
				ConsistentRead:            aws.Bool(true), Limit: aws.Int32(1),
			})
			if err != nil {
				return volunteer.Signup{}, translate("read the waitlist", err)
			}
			if len(first.Items) == 1 {
				var w struct {
					SK  string `dynamodbav:"sk"`
					Sub string `dynamodbav:"sub"`
				}
				if err := attributevalue.UnmarshalMap(first.Items[0], &w); err != nil {
					return volunteer.Signup{}, fmt.Errorf("read the waitlist: decode: %w", err)
				}
				pos, _ := strconv.ParseInt(w.SK[len("WAIT#"):], 10, 64)
				items = []types.TransactWriteItem{mine,
					{Update: &types.Update{TableName: &s.table, Key: keyOf(actPK(activityID), signupSK(w.Sub)),
						UpdateExpression: aws.String("SET sstatus = :signed REMOVE #position"), ConditionExpression: aws.String("sstatus = :waiting AND #position = :pos"),
						ExpressionAttributeNames: map[string]string{"#position": "position"},
						ExpressionAttributeValues: map[string]types.AttributeValue{
							":signed": str(volunteer.SignedUp), ":waiting": str(volunteer.Waitlisted), ":pos": num(pos)}}},
					{Delete: &types.Delete{TableName: &s.table, Key: keyOf(actPK(activityID), w.SK), ConditionExpression: aws.String("attribute_exists(pk)")}},
					{Update: &types.Update{TableName: &s.table, Key: actKey, UpdateExpression: aws.String("ADD waitlisted :minus"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1)}}},
				}
			} else {
				items = []types.TransactWriteItem{mine,
					{Update: &types.Update{TableName: &s.table, Key: actKey, UpdateExpression: aws.String("ADD signedUp :minus"),
						ConditionExpression:       aws.String("waitlisted = :zero"),
						ExpressionAttributeValues: map[string]types.AttributeValue{":minus": num(-1), ":zero": num(0)}}},
				}
			}
		}
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			su.Status, su.Position = volunteer.Cancelled, 0
			return su, nil
		}
		if f := failed(err); len(f) == 0 && !errors.Is(translate("", err), apperr.ErrContention) {
			return volunteer.Signup{}, translate("cancel sign-up", err)
		}
		// Lost a race: another cancellation moved this waiter up, or took the first waiter, or a
		// waiter joined. Read again after a short, growing, jittered pause.
		if err := pause(ctx, round); err != nil {
			return volunteer.Signup{}, translate("cancel sign-up", err)
		}
	}
	return volunteer.Signup{}, apperr.ErrContention.Wrap(fmt.Errorf("cancel sign-up %s: %d rounds", activityID, maxSignupRounds))
}

// pause waits a little before another round of a lost race: up to 2^min(round,5) × 5 ms, jittered.
func pause(ctx context.Context, round int) error {
	d := time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(round, 5)))
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// Signups returns an activity's sign-ups, every status (a consistent Query of its SIGNUP# items).
func (s *Store) Signups(ctx context.Context, activityID string) ([]volunteer.Signup, error) {
	var items []signupItem
	if err := s.queryAll(ctx, "list sign-ups", &dynamodb.QueryInput{
		TableName: &s.table, KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :s)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(actPK(activityID)), ":s": str("SIGNUP#")},
		ConsistentRead:            aws.Bool(true),
	}, &items); err != nil {
		return nil, err
	}
	out := make([]volunteer.Signup, len(items))
	for i, it := range items {
		out[i] = it.signup()
	}
	return out, nil
}

// MyActivities returns sub's sign-ups of activities starting from `from` on, soonest first, with their
// activities: one Query of gsi2 VOLACTS#<sub> (keys) and one BatchGetItem of the sign-ups and activities.
func (s *Store) MyActivities(ctx context.Context, sub string, from time.Time) ([]volunteer.Mine, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName: &s.table, IndexName: aws.String("gsi2"), KeyConditionExpression: aws.String("gsi2pk = :pk AND gsi2sk >= :from"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str("VOLACTS#" + sub), ":from": str(timeKey(from))},
		ProjectionExpression:      aws.String("pk"), Limit: aws.Int32(volunteer.MaxMine),
	})
	if err != nil {
		return nil, translate("list my activities", err)
	}
	var order []string
	var keys []map[string]types.AttributeValue
	for _, k := range out.Items {
		pk := stringAttr(k, "pk")
		order = append(order, pk)
		keys = append(keys, keyOf(pk, signupSK(sub)), keyOf(pk, "ACT"))
	}
	var items []struct {
		activityItem
		SStatus  string `dynamodbav:"sstatus"`
		Position int64  `dynamodbav:"position"`
		At       string `dynamodbav:"at"`
		Sub      string `dynamodbav:"sub"`
		AID      string `dynamodbav:"activityId"`
	}
	if err := s.batchGetAll(ctx, "read my activities", keys, &items); err != nil {
		return nil, err
	}
	acts, sus := map[string]volunteer.Activity{}, map[string]volunteer.Signup{}
	for _, it := range items {
		if it.SK == "ACT" {
			acts[it.PK] = it.activity()
		} else {
			sus[it.PK] = volunteer.Signup{ActivityID: it.AID, Sub: it.Sub, Status: it.SStatus, Position: it.Position, At: parseTime(it.At)}
		}
	}
	mine := make([]volunteer.Mine, 0, len(order))
	for _, pk := range order {
		a, ok1 := acts[pk]
		su, ok2 := sus[pk]
		if ok1 && ok2 {
			a.Secret = nil
			mine = append(mine, volunteer.Mine{Activity: a, Signup: su})
		}
	}
	return mine, nil
}

// ActivityWithSignup reads an activity, sub's sign-up of it and whether sub has a volunteer profile with
// one strongly consistent BatchGetItem (the sign-up nil when there is none; volunteer.ErrActivityNotFound
// without the activity).
func (s *Store) ActivityWithSignup(ctx context.Context, id, sub string) (volunteer.Activity, *volunteer.Signup, bool, error) {
	var raw []map[string]types.AttributeValue
	req := map[string]types.KeysAndAttributes{s.table: {
		Keys:           []map[string]types.AttributeValue{keyOf(actPK(id), "ACT"), keyOf(actPK(id), signupSK(sub)), keyOf(volPK(sub), "PROFILE")},
		ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("pk, sk, #type, id, teamId, atype, title, description, #start, #end, place, " +
			"#capacity, skills, seriesId, astatus, signedUp, waitlisted, organiser, createdAt, secret, activityId, #sub, sstatus, #position, #at"),
		ExpressionAttributeNames: map[string]string{"#type": "type", "#start": "start", "#end": "end", "#capacity": "capacity",
			"#sub": "sub", "#position": "position", "#at": "at"}}}
	for tries := 0; len(req) > 0; tries++ {
		if tries == 10 {
			return volunteer.Activity{}, nil, false, translate("read activity and sign-up", fmt.Errorf("keys left unprocessed after %d tries", tries))
		}
		out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return volunteer.Activity{}, nil, false, translate("read activity and sign-up", err)
		}
		raw = append(raw, out.Responses[s.table]...)
		req = out.UnprocessedKeys
		if len(req) > 0 {
			if err := pause(ctx, tries); err != nil {
				return volunteer.Activity{}, nil, false, translate("read activity and sign-up", err)
			}
		}
	}
	var act *volunteer.Activity
	var su *volunteer.Signup
	profile := false
	for _, item := range raw {
		switch sk := stringAttr(item, "sk"); {
		case sk == "PROFILE":
			profile = true
		case sk == "ACT":
			var it activityItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return volunteer.Activity{}, nil, false, fmt.Errorf("read activity %s: decode: %w", id, err)
			}
			a := it.activity()
			act = &a
		default:
			var it signupItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return volunteer.Activity{}, nil, false, fmt.Errorf("read sign-up: decode: %w", err)
			}
			v := it.signup()
			su = &v
		}
	}
	if act == nil || act.ID == "" {
		return volunteer.Activity{}, nil, false, volunteer.ErrActivityNotFound
	}
	return *act, su, profile, nil
}
