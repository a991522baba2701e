// Package photos builds the services over the photo bucket. Only the functions that handle photos import
// it, so the others do not link the S3 adapter (issue 11, cold start).
package photos

import (
	"context"
	"time"

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
		report.Config{BBox: bbox, MaxUploadBytes: maxBytes, TZ: b.TZ, Links: store}, b.Now, platform.NewID), nil
}

// Sweeper returns the photo sweeper over BUCKET_NAME (S3_PATH_STYLE) and the table's day index.
func Sweeper(b *platform.Base) (*report.PhotoSweeper, error) {
	store, err := bucket(b)
	if err != nil {
		return nil, err
	}
	return report.NewPhotoSweeper(b.Store, store, b.TZ, b.Now), nil
}

// Links returns presigned GETs of a report's photos valid for ttl, each of the version the report records
// (BUCKET_NAME, S3_PATH_STYLE).
func Links(b *platform.Base, ttl time.Duration) (*Linker, error) {
	store, err := bucket(b)
	if err != nil {
		return nil, err
	}
	return &Linker{store: store, ttl: ttl}, nil
}

// Linker links a report's photos (open311.PhotoLinker).
type Linker struct {
	store *blobstore.Store
	ttl   time.Duration
}

// PhotoURL is a presigned GET of the photo's recorded version.
func (l *Linker) PhotoURL(ctx context.Context, ph report.Photo) (string, error) {
	return l.store.PresignGet(ctx, ph.Key, ph.VersionID, l.ttl)
}

// bucket is the photo bucket's store, built once per container; S3_PATH_STYLE=true addresses the bucket in
// the path, which moto needs (in AWS the bucket is the host name's first label).
func bucket(b *platform.Base) (*blobstore.Store, error) {
	name, err := b.Env.Required("BUCKET_NAME")
	if err != nil {
		return nil, err
	}
	return blobstore.New(b.AWS, name, b.Env("S3_PATH_STYLE") == "true")
}
