package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/civicsnap/civicsnap/shared/photo"
)

// MovePhotos checks that every key is one of owner's pending uploads, then moves the photos to
// dstPrefix<n>.<ext>, movePhotoConcurrency at a time (memory holds that many photos, each read once and
// stripped once). If one is refused, the copies made — and any whose write had an unknown outcome — are
// deleted once every move has ended (none is cut short, so none lands after the cleanup), so a rejected
// request leaves nothing; the error is the lowest-numbered refused photo's.
func (s *Service) MovePhotos(ctx context.Context, owner string, keys []string, dstPrefix string) ([]Photo, error) {
	for _, k := range keys {
		if got, ok := pendingKeyOwner(k); !ok || got != owner {
			return nil, ErrPhotoKey.With("photo key %q is not one of your uploads", k)
		}
	}
	moved := make([]Photo, len(keys))
	errs := make([]error, len(keys))
	sem := make(chan struct{}, movePhotoConcurrency)
	var wg sync.WaitGroup
	for i, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			moved[i], errs[i] = s.movePhoto(ctx, k, fmt.Sprintf("%s%d", dstPrefix, i+1))
		})
	}
	wg.Wait()
	var written []Photo
	var first error
	for i, err := range errs {
		if moved[i].Key != "" {
			written = append(written, moved[i])
		}
		if err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return nil, errors.Join(first, s.DeletePhotos(ctx, written))
	}
	return moved, nil
}

// movePhotoConcurrency bounds the photos moved at once: a report's nine photos in three rounds, with at
// most three photos (and their stripped copies) in memory.
const movePhotoConcurrency = 3

// DeletePhotos removes moved photos (undoing MovePhotos when the write that needed them failed).
func (s *Service) DeletePhotos(ctx context.Context, photos []Photo) error {
	if len(photos) == 0 {
		return nil
	}
	keys := make([]string, len(photos))
	for i, p := range photos {
		keys[i] = p.Key
	}
	if err := s.photos.Delete(context.WithoutCancel(ctx), keys...); err != nil {
		return fmt.Errorf("remove copied photos: %w", err)
	}
	return nil
}

// movePhoto checks an uploaded object (size, magic bytes matching its declared type), strips its metadata
// and stores it under the report. A photo with nothing to strip is copied inside the store, conditional on
// its being the version that was checked, so its bytes are not sent back; a stripped one is uploaded. The
// pending original is left to the bucket's 1-day lifecycle rule, which saves a DeleteObject per photo.
func (s *Service) movePhoto(ctx context.Context, src, dstBase string) (Photo, error) {
	obj, err := s.photos.Get(ctx, src, s.cfg.MaxUploadBytes)
	if err != nil {
		return Photo{}, err
	}
	typ := photo.Sniff(obj.Data)
	if typ == "" || typ != obj.ContentType {
		return Photo{}, ErrPhotoNotImage.With("photo %q is not a %s image", src, obj.ContentType)
	}
	data, stripped, err := photo.Strip(typ, obj.Data)
	if errors.Is(err, photo.ErrMetadataRemains) {
		return Photo{}, ErrPhotoMetadata.With("photo %q carries metadata that cannot be removed; send it as JPEG", src)
	}
	if err != nil {
		return Photo{}, ErrPhotoNotImage.With("photo %q is not a readable %s image", src, typ)
	}
	dst := dstBase + photo.Ext(typ)
	ph := Photo{Key: dst, ContentType: typ, Size: int64(len(data)), MetadataStripped: stripped}
	// From here on a failed write may still have written (its answer lost): the photo is returned with the
	// error, so a refused request deletes it too.
	if obj.ETag != "" && bytes.Equal(data, obj.Data) {
		err := s.photos.Copy(ctx, src, dst, obj.ETag, typ)
		if err == nil {
			return ph, nil
		}
		if !errors.Is(err, ErrPhotoChanged) {
			return ph, fmt.Errorf("copy photo %s: %w", dst, err)
		}
		// Replaced since it was read: store the bytes that were checked.
	}
	if err := s.photos.Put(ctx, dst, typ, data); err != nil {
		return ph, fmt.Errorf("store photo %s: %w", dst, err)
	}
	return ph, nil
}
