// Package photos builds the services over the photo bucket. Only the functions that handle photos import
// it, so the others do not link the S3 client (issue 11, cold start).
package photos

import (
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/civicsnap/civicsnap/functions/platform"
	"github.com/civicsnap/civicsnap/shared/blobstore"
	"github.com/civicsnap/civicsnap/shared/report"
)

// Reports returns the report service over BUCKET_NAME (CITY_BBOX, MAX_UPLOAD_BYTES, S3_PATH_STYLE).
func Reports(b *platform.Base) (*report.Service, error) {
	store, err := bucket(b)
	if err != nil {
		return nil, err
	}
	bbox, err := b.BBox()
	if err != nil {
		return nil, err
	}
	maxBytes, err := b.Env.Int64("MAX_UPLOAD_BYTES", 10<<20)
	if err != nil {
		return nil, err
	}
	return report.NewService(b.Store, store,
		report.Config{BBox: bbox, MaxUploadBytes: maxBytes, TZ: b.TZ}, b.Now, platform.NewID), nil
}

// Sweeper returns the photo sweeper over BUCKET_NAME (S3_PATH_STYLE) and the table's day index.
func Sweeper(b *platform.Base) (*report.PhotoSweeper, error) {
	store, err := bucket(b)
	if err != nil {
		return nil, err
	}
	return report.NewPhotoSweeper(b.Store, store, b.TZ, b.Now), nil
}

// bucket is the photo bucket's store, with its S3 client built once per container.
func bucket(b *platform.Base) (*blobstore.Store, error) {
	name, err := b.Env.Required("BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	return blobstore.New(s3.NewFromConfig(b.AWS, PathStyle(b.Env)), name), nil
}

// PathStyle returns the S3 client option for path-style addressing, which moto needs; set by
// S3_PATH_STYLE=true. In AWS virtual-hosted style is used.
func PathStyle(env func(string) string) func(*s3.Options) {
	style := env("S3_PATH_STYLE") == "true"
	return func(o *s3.Options) { o.UsePathStyle = style }
}
