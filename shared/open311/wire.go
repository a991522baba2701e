// Package open311 serves Open311 GeoReport v2 and mySociety's service request updates extension over
// civicsnap's reports, so the civic apps that already speak it (FixMyStreet, SeeClickFix, city 311
// systems and their client libraries) can file reports and follow them. It holds the protocol — element
// names, formats, dates, error shapes, the status mapping — and the service behind it; it imports no AWS
// SDK (the store is shared/dynamostore's, the photo links and media fetches the function's).
package open311

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"time"
)

// Format is a response format, named by the resource's extension (services.xml, requests/1.json).
type Format string

// The two formats: XML is GeoReport's required one, JSON the one discovery also announces.
const (
	XML  Format = "xml"
	JSON Format = "json"
)

// ContentType is the format's media type, with its charset: clients read every body as UTF-8.
func (f Format) ContentType() string {
	if f == XML {
		return "text/xml; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// SplitFormat splits "services.json" into "services" and JSON; ok is false for any other extension.
func SplitFormat(file string) (name string, f Format, ok bool) {
	i := strings.LastIndexByte(file, '.')
	if i <= 0 {
		return "", "", false
	}
	switch Format(file[i+1:]) {
	case XML:
		return file[:i], XML, true
	case JSON:
		return file[:i], JSON, true
	}
	return "", "", false
}

// Encode renders v in format f. Lists are JSON arrays and XML root elements holding one element per
// item, as GeoReport writes them; XML starts with the declaration naming UTF-8.
func Encode(f Format, v any) ([]byte, error) {
	if f == JSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(jsonValue(v)); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	body, err := xml.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), body...), nil
}

// jsonValue unwraps the XML root wrappers: in JSON a list is the bare array.
func jsonValue(v any) any {
	switch x := v.(type) {
	case Services:
		return nonNil(x.Items)
	case ServiceRequests:
		return nonNil(x.Items)
	case Updates:
		return nonNil(x.Items)
	case Errors:
		return nonNil(x.Items)
	}
	return v
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// W3C formats a time as GeoReport requires: a W3C date-time with a zone, in the city's zone
// (2026-11-30T17:52:08+08:00; "+0800" or a space instead of the T makes clients drop the item).
func W3C(t time.Time, tz *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(tz).Format("2006-01-02T15:04:05Z07:00")
}

// ErrDate: a date parameter is not a W3C date-time with a zone.
var ErrDate = errors.New("not a W3C date-time with a zone")

// ParseW3C reads a W3C date-time with a zone (Z or ±hh:mm), seconds and fractions optional, as clients
// send start_date and end_date.
func ParseW3C(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, ErrDate
}

// Discovery is the service discovery document.
type Discovery struct {
	XMLName    xml.Name   `xml:"discovery" json:"-"`
	Changeset  string     `xml:"changeset" json:"changeset"`
	Contact    string     `xml:"contact" json:"contact"`
	KeyService string     `xml:"key_service" json:"key_service"`
	Endpoints  []Endpoint `xml:"endpoints>endpoint" json:"endpoints"`
}

// Endpoint is one API endpoint of the discovery document.
type Endpoint struct {
	Specification string   `xml:"specification" json:"specification"`
	URL           string   `xml:"url" json:"url"`
	Changeset     string   `xml:"changeset" json:"changeset"`
	Type          string   `xml:"type" json:"type"`
	Formats       []string `xml:"formats>format" json:"formats"`
}

// Services is the service list.
type Services struct {
	XMLName xml.Name      `xml:"services"`
	Items   []ServiceItem `xml:"service"`
}

// ServiceItem is one service: a category.
type ServiceItem struct {
	ServiceCode string `xml:"service_code" json:"service_code"`
	ServiceName string `xml:"service_name" json:"service_name"`
	Description string `xml:"description" json:"description"`
	Metadata    bool   `xml:"metadata" json:"metadata"`
	Type        string `xml:"type" json:"type"`
	Keywords    string `xml:"keywords" json:"keywords"`
	Group       string `xml:"group" json:"group"`
}

// ServiceDefinition is a service's attributes.
type ServiceDefinition struct {
	XMLName     xml.Name           `xml:"service_definition" json:"-"`
	ServiceCode string             `xml:"service_code" json:"service_code"`
	Attributes  []ServiceAttribute `xml:"attributes>attribute" json:"attributes"`
}

// ServiceAttribute is one attribute of a service definition.
type ServiceAttribute struct {
	Variable            bool             `xml:"variable" json:"variable"`
	Code                string           `xml:"code" json:"code"`
	Datatype            string           `xml:"datatype" json:"datatype"`
	Required            bool             `xml:"required" json:"required"`
	DatatypeDescription string           `xml:"datatype_description" json:"datatype_description"`
	Order               int              `xml:"order" json:"order"`
	Description         string           `xml:"description" json:"description"`
	Values              []AttributeValue `xml:"values>value,omitempty" json:"values,omitempty"`
}

// AttributeValue is one choice of a list attribute.
type AttributeValue struct {
	Key  string `xml:"key" json:"key"`
	Name string `xml:"name" json:"name"`
}

// ServiceRequests is a list of service requests: GET requests, GET requests/{id}, the answer to POST
// requests and GET tokens/{token}.
type ServiceRequests struct {
	XMLName xml.Name         `xml:"service_requests"`
	Items   []ServiceRequest `xml:"request"`
}

// ServiceRequest is a report as GeoReport shows it. It has no field for the reporter: no name, email,
// phone, device or account id is ever part of an answer.
type ServiceRequest struct {
	ServiceRequestID  string   `xml:"service_request_id" json:"service_request_id"`
	Token             string   `xml:"token,omitempty" json:"token,omitempty"`
	Status            string   `xml:"status,omitempty" json:"status,omitempty"`
	StatusNotes       string   `xml:"status_notes,omitempty" json:"status_notes,omitempty"`
	ServiceName       string   `xml:"service_name,omitempty" json:"service_name,omitempty"`
	ServiceCode       string   `xml:"service_code,omitempty" json:"service_code,omitempty"`
	Description       string   `xml:"description,omitempty" json:"description,omitempty"`
	AgencyResponsible string   `xml:"agency_responsible,omitempty" json:"agency_responsible,omitempty"`
	ServiceNotice     string   `xml:"service_notice,omitempty" json:"service_notice,omitempty"`
	RequestedDatetime string   `xml:"requested_datetime,omitempty" json:"requested_datetime,omitempty"`
	UpdatedDatetime   string   `xml:"updated_datetime,omitempty" json:"updated_datetime,omitempty"`
	ExpectedDatetime  string   `xml:"expected_datetime,omitempty" json:"expected_datetime,omitempty"`
	Address           string   `xml:"address,omitempty" json:"address,omitempty"`
	Lat               *float64 `xml:"lat,omitempty" json:"lat,omitempty"`
	Long              *float64 `xml:"long,omitempty" json:"long,omitempty"`
	MediaURL          string   `xml:"media_url,omitempty" json:"media_url,omitempty"`
}

// Updates is mySociety's list of service request updates.
type Updates struct {
	XMLName xml.Name `xml:"service_request_updates"`
	Items   []Update `xml:"request_update"`
}

// Update is one update of a service request: a change of its status or a public note.
type Update struct {
	UpdateID         string `xml:"update_id" json:"update_id"`
	ServiceRequestID string `xml:"service_request_id,omitempty" json:"service_request_id,omitempty"`
	Status           string `xml:"status,omitempty" json:"status,omitempty"`
	UpdatedDatetime  string `xml:"updated_datetime,omitempty" json:"updated_datetime,omitempty"`
	Description      string `xml:"description,omitempty" json:"description,omitempty"`
	MediaURL         string `xml:"media_url,omitempty" json:"media_url,omitempty"`
}

// Errors is GeoReport's error answer.
type Errors struct {
	XMLName xml.Name    `xml:"errors"`
	Items   []ErrorItem `xml:"error"`
}

// ErrorItem is one error: the HTTP status as its code and a description.
type ErrorItem struct {
	Code        int    `xml:"code" json:"code"`
	Description string `xml:"description" json:"description"`
}
