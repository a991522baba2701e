package dynamostore

import (
	"context"

	"github.com/civicsnap/civicsnap/shared/builders"
)

// Builders' home (建设者之家), README "Builders' home": employers, settings and worker profiles (this file),
// jobs (builders_job.go), hires (builders_hire.go), fairs, transfers and desks (builders_fair.go), KPI records
// (builders_record.go).
//
//	settings       pk=CONFIG            sk=BUILDERS
//	employer       pk=EMPLOYER#<sub>    sk=PROFILE         gsi1 EMPLOYERS#<estatus>/<createdAt>#<sub>
//	licence claim  pk=LICENCE#<licence> sk=LICENCE
//	report         pk=EMPLOYER#<sub>    sk=REPORT#<reporterSub>
//	worker         pk=WORKER#<sub>      sk=PROFILE
//	match entry    pk=WORKER#<sub>      sk=TRADE#<trade>   gsi1 WORKERS#<trade>#<geohash4>/<availableFrom>#<sub>

func employerPK(sub string) string      { return "EMPLOYER#" + sub }
func licencePK(licence string) string   { return "LICENCE#" + licence }
func workerPK(sub string) string        { return "WORKER#" + sub }
func tradeSK(trade string) string       { return "TRADE#" + trade }
func employersGSI(status string) string { return "EMPLOYERS#" + status }

// contactAttr is a contact as stored.
type contactAttr struct {
	Name  string `dynamodbav:"name"`
	Phone string `dynamodbav:"phone"`
}

// employerItem is an employer as stored.
type employerItem struct {
	PK           string      `dynamodbav:"pk"`
	SK           string      `dynamodbav:"sk"`
	Type         string      `dynamodbav:"type"`
	Sub          string      `dynamodbav:"sub"`
	Name         string      `dynamodbav:"name"`
	Licence      string      `dynamodbav:"licence"`
	Contact      contactAttr `dynamodbav:"contact"`
	Address      string      `dynamodbav:"address,omitempty"`
	EStatus      string      `dynamodbav:"estatus"`
	StatusReason string      `dynamodbav:"statusReason,omitempty"`
	VerifiedBy   string      `dynamodbav:"verifiedBy,omitempty"`
	VerifiedAt   string      `dynamodbav:"verifiedAt,omitempty"`
	Reports      int         `dynamodbav:"reports"`
	OpenJobs     int         `dynamodbav:"openJobs"`
	CreatedAt    string      `dynamodbav:"createdAt"`
	UpdatedAt    string      `dynamodbav:"updatedAt,omitempty"`
	GSI1PK       string      `dynamodbav:"gsi1pk"`
	GSI1SK       string      `dynamodbav:"gsi1sk"`
}

func (it employerItem) employer() builders.Employer {
	return builders.Employer{
		Sub: it.Sub, Name: it.Name, Licence: it.Licence, Contact: builders.Contact{Name: it.Contact.Name, Phone: it.Contact.Phone},
		Address: it.Address, Status: it.EStatus, StatusReason: it.StatusReason, VerifiedBy: it.VerifiedBy,
		VerifiedAt: parseTime(it.VerifiedAt), Reports: it.Reports, OpenJobs: it.OpenJobs,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
}

func employerItemOf(e builders.Employer) employerItem {
	it := employerItem{
		PK: employerPK(e.Sub), SK: "PROFILE", Type: "employer", Sub: e.Sub, Name: e.Name, Licence: e.Licence,
		Contact: contactAttr{Name: e.Contact.Name, Phone: e.Contact.Phone}, Address: e.Address, EStatus: e.Status,
		StatusReason: e.StatusReason, VerifiedBy: e.VerifiedBy, Reports: e.Reports, OpenJobs: e.OpenJobs,
		CreatedAt: timeKey(e.CreatedAt), GSI1PK: employersGSI(e.Status), GSI1SK: timeKey(e.CreatedAt) + "#" + e.Sub,
	}
	if !e.VerifiedAt.IsZero() {
		it.VerifiedAt = timeKey(e.VerifiedAt)
	}
	if !e.UpdatedAt.IsZero() {
		it.UpdatedAt = timeKey(e.UpdatedAt)
	}
	return it
}

// areaAttr is a worker's area as stored.
type areaAttr struct {
	Lat      float64 `dynamodbav:"lat"`
	Lng      float64 `dynamodbav:"lng"`
	RadiusKm int     `dynamodbav:"radiusKm"`
	Name     string  `dynamodbav:"name,omitempty"`
}

// wageAttr is a wage as stored.
type wageAttr struct {
	Min           int    `dynamodbav:"min"`
	Max           int    `dynamodbav:"max"`
	Unit          string `dynamodbav:"unit"`
	DailyEstimate int    `dynamodbav:"dailyEstimate,omitempty"`
}

func wageAttrOf(w builders.Wage) wageAttr {
	return wageAttr{Min: w.Min, Max: w.Max, Unit: w.Unit, DailyEstimate: w.DailyEstimate}
}

func (w wageAttr) wage() builders.Wage {
	return builders.Wage{Min: w.Min, Max: w.Max, Unit: w.Unit, DailyEstimate: w.DailyEstimate}
}

// workerItem is a worker profile as stored.
type workerItem struct {
	PK            string         `dynamodbav:"pk"`
	SK            string         `dynamodbav:"sk"`
	Type          string         `dynamodbav:"type"`
	Sub           string         `dynamodbav:"sub"`
	Name          string         `dynamodbav:"name"`
	Phone         string         `dynamodbav:"phone"`
	Trades        []string       `dynamodbav:"trades"`
	Years         int            `dynamodbav:"years"`
	Area          areaAttr       `dynamodbav:"area"`
	Expected      wageAttr `dynamodbav:"expected"`
	AvailableFrom string         `dynamodbav:"availableFrom"`
	Visibility    string         `dynamodbav:"visibility"`
	CreatedAt     string         `dynamodbav:"createdAt"`
	UpdatedAt     string         `dynamodbav:"updatedAt,omitempty"`
}

func (it workerItem) worker() builders.Worker {
	return builders.Worker{
		Sub: it.Sub, Name: it.Name, Phone: it.Phone, Trades: nonNil(it.Trades), Years: it.Years,
		Area:     builders.Area{Lat: it.Area.Lat, Lng: it.Area.Lng, RadiusKm: it.Area.RadiusKm, Name: it.Area.Name},
		Expected: it.Expected.wage(), AvailableFrom: it.AvailableFrom, Visibility: it.Visibility,
		CreatedAt: parseTime(it.CreatedAt), UpdatedAt: parseTime(it.UpdatedAt),
	}
}

// buildersSettingsItem is the builders' settings as stored.
type buildersSettingsItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	Type        string `dynamodbav:"type"`
	MinimumWage struct {
		Month int `dynamodbav:"month"`
		Day   int `dynamodbav:"day"`
	} `dynamodbav:"minimumWage"`
	UpdatedAt string `dynamodbav:"updatedAt"`
	UpdatedBy string `dynamodbav:"updatedBy"`
}

// Employer returns the employer sub registered (builders.ErrEmployerNotFound when there is none).
func (s *Store) Employer(ctx context.Context, sub string) (builders.Employer, error) {
	var it employerItem
	ok, err := s.getItem(ctx, "get employer", employerPK(sub), "PROFILE", &it)
	if err != nil {
		return builders.Employer{}, err
	}
	if !ok || it.Type != "employer" {
		return builders.Employer{}, builders.ErrEmployerNotFound
	}
	return it.employer(), nil
}

// Worker returns sub's worker profile, with the phone (builders.ErrNotWorker when there is none).
func (s *Store) Worker(ctx context.Context, sub string) (builders.Worker, error) {
	var it workerItem
	ok, err := s.getItem(ctx, "get worker", workerPK(sub), "PROFILE", &it)
	if err != nil {
		return builders.Worker{}, err
	}
	if !ok || it.Type != "worker" {
		return builders.Worker{}, builders.ErrNotWorker
	}
	return it.worker(), nil
}

// BuildersSettings returns the builders' settings (builders.DefaultSettings until an admin saves some).
func (s *Store) BuildersSettings(ctx context.Context) (builders.Settings, error) {
	var it buildersSettingsItem
	ok, err := s.getItem(ctx, "get builders settings", "CONFIG", "BUILDERS", &it)
	if err != nil {
		return builders.Settings{}, err
	}
	if !ok {
		return builders.DefaultSettings(), nil
	}
	return builders.Settings{
		MinimumWage: builders.MinimumWage{Month: it.MinimumWage.Month, Day: it.MinimumWage.Day},
		UpdatedAt:   parseTime(it.UpdatedAt), UpdatedBy: it.UpdatedBy,
	}, nil
}
