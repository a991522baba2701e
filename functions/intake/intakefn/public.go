package intakefn

import (
	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/blobstore"
	"github.com/civicsnap/civicsnap/shared/report"
)

// publicMap builds the public map and me too (GET /v1/public/reports, POST /v1/reports/{id}/metoo). They
// live in intake, which already links the photo bucket's client the map's photo links are signed with:
// in the dashboard function they would add it to a binary that has none.
func publicMap(b *platform.Base) (*report.PublicService, error) {
	name, err := b.Env.Required("BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	links, err := blobstore.New(b.AWS, name, b.Env("S3_PATH_STYLE") == "true")
	if err != nil {
		return nil, err
	}
	return report.NewPublicService(b.Store, links, b.Now), nil
}
