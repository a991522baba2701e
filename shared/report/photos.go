package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/civicsnap/civicsnap/shared/photo"
)

// Photos stay where they were uploaded (issue 11: no CopyObject). A presigned POST puts a photo at
// photos/<local day>/<uuid>.<ext> in a versioned bucket, with its uploader as the object's owner metadata
// (the key names no one: keys are shown to departments and on Open311); a report or resolution records
// the key and the version that was checked — the uploaded version when there was nothing to strip, or the
// version its stripped bytes were written as — and every reader asks for that version. So a client that posts again to
// the key while its form is still valid adds a version nobody reads, and a verified clean photo is never
// written again. What no report points to (an abandoned upload, a stripped original, a re-upload) is
// deleted by the photo sweeper (PhotoSweeper) once its day is two days old; that is why a key is accepted
// only on its own day and the next.

// ErrUnversioned: the photo store returned no version for a photo, so a record could not be pinned to the
// bytes that were checked. The bucket must have versioning enabled.
var ErrUnversioned = errors.New("photo store returned no version id: is the bucket's versioning enabled?")

// uploadKey is the key a new upload gets: under the day it is handed out on (the city's local day), which
// bounds when a report may attach it and when the sweeper may delete it.
func (s *Service) uploadKey(ext string) string {
	return uploadKeyPrefix + s.today().Format(dayLayout) + "/" + s.newID() + ext
}

// today is the local day at s.now() in the city's time zone.
func (s *Service) today() time.Time {
	loc := s.cfg.TZ
	if loc == nil {
		loc = time.UTC
	}
	t := s.now().In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// VerifyPhotos checks that every key is an upload of today or yesterday, then reads each
// (photoConcurrency at a time: memory holds that many photos, each read once and stripped once), checks
// that it is owner's and of its declared type, strips its metadata and returns it pinned to a version: the
// uploaded one if there was nothing to strip (nothing is written), else the version the stripped bytes
// were written as, at the same key. If one is refused, the versions written are deleted once every check
// has ended (none is cut short, so none lands after the cleanup), leaving the uploads as they were; a
// write whose answer was lost may have left a version, which the sweeper removes. The error is the
// lowest-numbered refused photo's.
func (s *Service) VerifyPhotos(ctx context.Context, owner string, keys []string) ([]Photo, error) {
	today := s.today()
	for _, k := range keys {
		day, ok := parseUploadKey(k)
		if !ok {
			return nil, ErrPhotoKey.With("photo key %q is not one of your uploads", k)
		}
		// A key of another day than today or yesterday is refused: the sweeper deletes the unattached
		// photos of a day once it is two days old, so no report may attach one after that.
		if d, err := time.ParseInLocation(dayLayout, day, today.Location()); err != nil || d.After(today) || d.Before(today.AddDate(0, 0, -1)) {
			return nil, ErrPhotoNotFound.With("photo %q was uploaded on %s; a photo must be used the day it is uploaded or the next: upload it again", k, day)
		}
	}
	verified := make([]Photo, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, photoConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			verified[i], errs[i] = s.verifyPhoto(ctx, owner, k)
		})
	}
	wg.Wait()
	if first := firstError(errs); first != nil {
		return nil, errors.Join(first, s.DeletePhotos(ctx, verified))
	}
	return verified, nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// photoConcurrency bounds the photos checked at once: a report's nine photos in three rounds, with at
// most three photos (and their stripped copies) in memory.
const photoConcurrency = 3

// DeletePhotos undoes VerifyPhotos when the write that needed its photos failed: the versions it wrote
// (stripped photos) are deleted, so the uploads are as they were and the same request may be sent again.
// A version the uploader wrote is left alone (a photo with nothing to strip): it is the client's upload,
// and the sweeper deletes it if no report comes to point to it.
func (s *Service) DeletePhotos(ctx context.Context, photos []Photo) error {
	var vs []PhotoVersion
	for _, p := range photos {
		if p.written {
			vs = append(vs, PhotoVersion{Key: p.Key, VersionID: p.VersionID})
		}
	}
	if len(vs) == 0 {
		return nil
	}
	if err := s.photos.DeleteVersions(context.WithoutCancel(ctx), vs...); err != nil {
		return fmt.Errorf("remove stripped photos: %w", err)
	}
	return nil
}

// verifyPhoto checks an uploaded object (size, magic bytes matching its declared type) and strips its
// metadata. An uploaded photo with nothing to strip is recorded as the version that was read, so its
// bytes are neither sent back nor copied; a stripped one is written to the same key and recorded as the
// new version (the original, now an older version, is the sweeper's). A write whose answer was lost may
// have left a version nobody records: the sweeper's too.
func (s *Service) verifyPhoto(ctx context.Context, owner, key string) (Photo, error) {
	obj, err := s.photos.Get(ctx, key, s.cfg.MaxUploadBytes)
	if err != nil {
		return Photo{}, err
	}
	if obj.Owner != owner {
		return Photo{}, ErrPhotoKey.With("photo key %q is not one of your uploads", key)
	}
	if obj.VersionID == "" {
		return Photo{}, fmt.Errorf("photo %s: %w", key, ErrUnversioned)
	}
	typ := photo.Sniff(obj.Data)
	if typ == "" || typ != obj.ContentType {
		return Photo{}, ErrPhotoNotImage.With("photo %q is not a %s image", key, obj.ContentType)
	}
	data, stripped, err := photo.Strip(typ, obj.Data)
	if errors.Is(err, photo.ErrMetadataRemains) {
		return Photo{}, ErrPhotoMetadata.With("photo %q carries metadata that cannot be removed; send it as JPEG", key)
	}
	if err != nil {
		return Photo{}, ErrPhotoNotImage.With("photo %q is not a readable %s image", key, typ)
	}
	ph := Photo{Key: key, ContentType: typ, Size: int64(len(data)), MetadataStripped: stripped, VersionID: obj.VersionID}
	// An uploader's version with nothing to strip is recorded as it is. A version another check wrote is
	// not (it is that request's to delete if it is refused: two requests with one photo, or a retry racing
	// the first attempt): this request writes the bytes again as a version of its own.
	if bytes.Equal(data, obj.Data) && !obj.Checked {
		return ph, nil
	}
	v, err := s.photos.PutVersion(ctx, key, owner, typ, data)
	if err != nil {
		return Photo{}, fmt.Errorf("store stripped photo %s: %w", key, err)
	}
	if v == "" {
		return Photo{}, fmt.Errorf("stripped photo %s: %w", key, ErrUnversioned)
	}
	ph.VersionID, ph.written = v, true
	return ph, nil
}
