package blobstore

import (
	"context"
	"encoding/xml"
	"fmt"

	"github.com/aws/smithy-go"

	"github.com/civicsnap/civicsnap/functions/platform/awsrest"
)

// s3Namespace is the namespace of S3's XML documents.
const s3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// deleteRequest is DeleteObjects' body.
type deleteRequest struct {
	XMLName xml.Name   `xml:"Delete"`
	Xmlns   string     `xml:"xmlns,attr"`
	Objects []objectID `xml:"Object"`
	Quiet   bool       `xml:"Quiet"`
}

type objectID struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
}

// deleteResult is DeleteObjects' answer; in quiet mode it lists only the failures.
type deleteResult struct {
	Errors []struct {
		Key       string `xml:"Key"`
		VersionID string `xml:"VersionId"`
		Code      string `xml:"Code"`
		Message   string `xml:"Message"`
	} `xml:"Error"`
}

// listVersionsResult is ListObjectVersions' answer.
type listVersionsResult struct {
	IsTruncated         bool           `xml:"IsTruncated"`
	NextKeyMarker       string         `xml:"NextKeyMarker"`
	NextVersionIDMarker string         `xml:"NextVersionIdMarker"`
	Versions            []versionEntry `xml:"Version"`
	DeleteMarkers       []versionEntry `xml:"DeleteMarker"`
}

type versionEntry struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
}

// callXML makes req and decodes its XML answer into out. An answer that does not decode is a
// smithy.DeserializationError, as the SDK's clients returned (translate reads it as an unknown outcome).
func (s *Store) callXML(ctx context.Context, req *awsrest.Request, out any) error {
	resp, err := s.s3.Do(ctx, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := xml.NewDecoder(resp.Body).Decode(out); err != nil {
		return &smithy.DeserializationError{Err: fmt.Errorf("%s answer: %w", req.Operation, err)}
	}
	return nil
}
