package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/civicsnap/civicsnap/shared/apperr"
	"github.com/civicsnap/civicsnap/shared/casework"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/report"
)

// inboundTTL is how long an applied inbound event id is remembered: far longer than the 5-minute signature
// tolerance, after which a replay is refused by its timestamp anyway.
const inboundTTL = 24 * time.Hour

// ReportForDept returns the report, its assignments and the inbound events already applied (one Query).
func (s *Store) ReportForDept(ctx context.Context, id string) (report.Report, map[string]bool, error) {
	return s.getReport(ctx, id)
}

// Apply writes a casework change in one transaction, conditional on the report's status being unchanged.
func (s *Store) Apply(ctx context.Context, c casework.ChangeSet) error {
	r := c.Report
	set := []string{"#st = :to", "updatedAt = :now", "leadDept = :lead"}
	vals := map[string]types.AttributeValue{
		":to": str(string(c.To)), ":now": str(timeKey(c.Entry.At)), ":lead": str(c.LeadDept), ":from": str(string(r.Status)),
	}
	if c.Reason != "" {
		set = append(set, "rejectReason = :reason")
		vals[":reason"] = str(c.Reason)
	}
	if len(c.ProofPhotos) > 0 {
		photos, err := attributevalue.Marshal(c.ProofPhotos)
		if err != nil {
			return err
		}
		set = append(set, "proofPhotos = :proof")
		vals[":proof"] = photos
	}
	if c.To == report.Resolved {
		// The resolution rides on the report's own gsi4 entry, RESOLVED#<local day>, its sort key carrying
		// what the KPI roll-up reads (a report is resolved once; only a revocation rewrites the entry).
		lead, _ := r.Assignment(c.LeadDept)
		// resolvedAt stays the first resolution's: a report resolved again after its reporter contested it
		// (report.Reopened) keeps its award's identity (accrual keys it by resolvedAt), so the award stays
		// and is not granted twice; its gsi4 entry moves to the new resolution.
		set = append(set, "resolvedAt = if_not_exists(resolvedAt, :now)", "gsi4pk = :rpk", "gsi4sk = :rsk")
		vals[":rpk"], vals[":rsk"] = str(s.resolvedPK(c.Entry.At)), str(resolvedSK(r, c.LeadDept, c.Entry.At, lead.SLADeadline))
	}
	if c.Attempt != "" {
		set = append(set, "lastChange = :attempt")
		vals[":attempt"] = str(c.Attempt)
	}
	remove := dropLegacyIndexKeys
	if lead, ok := r.Assignment(r.LeadDept); ok && !lead.Pending {
		// The lead's assignment item is written: dispatch's committed copy of it (dispatchedLead, which
		// readers ignore once the item exists) goes, keeping the report under 1 KB (issue 11: a resolution's
		// transaction writes it at 2 units, not 4).
		remove += ", dispatchedLead"
	}
	items := []types.TransactWriteItem{{Update: &types.Update{
		TableName: &s.table, Key: reportKey(r.ID),
		UpdateExpression:                    aws.String("SET " + strings.Join(set, ", ") + " " + remove),
		ConditionExpression:                 aws.String("#st = :from"),
		ExpressionAttributeNames:            map[string]string{"#st": "status"},
		ExpressionAttributeValues:           vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	// A signed event that changes the status cannot be applied twice (the report's condition above), so
	// its webhook-id is recorded on its timeline entry, which getReport reads as "seen"; only an event that
	// leaves the status as it was needs an item of its own to be refused a second time.
	inboundItem := c.InboundID != "" && c.To == r.Status
	e := c.Entry
	if c.InboundID != "" && !inboundItem {
		e.Inbound = c.InboundDept + "#" + c.InboundID
	}
	// The entry of a department's status change rides on that department's assignment, which the change
	// rewrites anyway (a transaction's item costs twice): no timeline item, within the log's bounds. Open311
	// reports keep items, which its updates feed reads.
	logOn := -1
	if !report.IsOpen311ID(r.ID) && len(e.Note) <= report.MaxLoggedNote {
		logOn = slices.IndexFunc(c.Assignments, func(a report.Assignment) bool {
			return a.Dept == c.InboundDept && len(a.Log) < report.MaxLog && !unchanged(r.Assignments, a)
		})
	}
	if logOn < 0 {
		entry := timelineEntryItem(r.ID, 0, c.Entry)
		entry.Inbound = e.Inbound
		tl, err := s.putItem(entry, "")
		if err != nil {
			return err
		}
		items = append(items, tl)
	}
	for i, a := range c.Assignments {
		if unchanged(r.Assignments, a) {
			continue // a transaction touches only what changes
		}
		if i == logOn {
			a.Log = append(slices.Clone(a.Log), e)
		}
		it, err := s.putItem(toAssignmentItem(r, a), "")
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	if inboundItem {
		it, err := s.putItem(map[string]any{
			"pk": reportPK(r.ID), "sk": inboundPrefix + c.InboundDept + "#" + c.InboundID, "type": "inbound",
			"ttl": c.Entry.At.Add(inboundTTL).Unix(),
		}, "attribute_not_exists(pk)")
		if err != nil {
			return err
		}
		items = append(items, it)
	}
	var watch attempts
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items}, watch.option)
	reasons := cancellationReasons(err)
	if len(reasons) > 0 && aws.ToString(reasons[0].Code) == "ConditionalCheckFailed" {
		// The report already carries this very change (its attempt id): an earlier send of the same
		// transaction was applied, and this is a re-send DynamoDB did not recognise by its token (moto).
		if c.Attempt != "" && stringAttr(reasons[0].Item, "lastChange") == c.Attempt {
			return nil
		}
		if watch.lost.Load() {
			// An earlier attempt went unanswered: it may have been applied and then overtaken by another
			// change, so this refusal does not say whether this change was made.
			return apperr.ErrOutcomeUnknown.Wrap(dispatch.ErrAlreadyHandled)
		}
		return dispatch.ErrAlreadyHandled
	}
	if slices.ContainsFunc(reasons, func(r types.CancellationReason) bool { return aws.ToString(r.Code) == "ConditionalCheckFailed" }) {
		return dispatch.ErrAlreadyHandled
	}
	if err != nil {
		return watch.settle("apply casework change", err)
	}
	return nil
}

// unchanged says whether as (the assignments as read) holds a exactly as it is to be written.
func unchanged(as []report.Assignment, a report.Assignment) bool {
	for _, o := range as {
		if o.Dept == a.Dept {
			return o.Role == a.Role && o.Status == a.Status && o.AssignedAt.Equal(a.AssignedAt) &&
				o.SLADeadline.Equal(a.SLADeadline) && o.Overdue == a.Overdue && o.Escalation == a.Escalation && o.Closed == a.Closed
		}
	}
	return false
}

type queueCursor struct {
	PK, SK, GPK, GSK string
}

// decodeIndexCursor reads a cursor of an index Query in partition gpk whose table keys start with
// pkPrefix (and, unless empty, skPrefix). Every key field must be present and within DynamoDB's key
// limits (partition keys 2,048 bytes, sort keys 1,024): a cursor is client input, and DynamoDB refuses an
// empty or oversized key value with a ValidationException, which would be a 500.
func decodeIndexCursor(cursor, gpk, pkPrefix, skPrefix string) (queueCursor, error) {
	var c queueCursor
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || json.Unmarshal(b, &c) != nil || c.GPK != gpk ||
		len(c.PK) <= len(pkPrefix) || !strings.HasPrefix(c.PK, pkPrefix) || len(c.PK) > 2048 ||
		c.SK == "" || !strings.HasPrefix(c.SK, skPrefix) || len(c.SK) > 1024 ||
		c.GSK == "" || len(c.GSK) > 1024 {
		return queueCursor{}, report.ErrInvalidCursor
	}
	return c, nil
}
