package report

import "github.com/civicsnap/civicsnap/shared/apperr"

// Errors of report intake. Codes are part of the API: never change one.
var (
	ErrNotFound        = apperr.New(apperr.NotFound, "report_not_found", "no such report")
	ErrInvalidBody     = apperr.New(apperr.Invalid, "invalid_body", "the request body is not valid")
	ErrUnknownCategory = apperr.New(apperr.Invalid, "unknown_category", "no such category")
	ErrDescription     = apperr.New(apperr.Invalid, "invalid_description", "the description must be plain text of at most 2000 characters")
	ErrAddress         = apperr.New(apperr.Invalid, "invalid_address", "the address must be plain text of at most 200 characters")
	ErrLocationMissing = apperr.New(apperr.Invalid, "location_required", "location with lat and lng is required")
	ErrOutsideCity     = apperr.New(apperr.Invalid, "location_outside_city", "the location is outside the city")
	ErrPhotoCount      = apperr.New(apperr.Invalid, "invalid_photo_count", "a report needs 1 to 9 distinct photos")
	ErrPhotoKey        = apperr.New(apperr.Invalid, "invalid_photo_key", "a photo key is not one of your uploads")
	ErrPhotoNotFound   = apperr.New(apperr.Invalid, "photo_not_found", "a photo was not uploaded (or its upload expired)")
	ErrPhotoTooLarge   = apperr.New(apperr.Invalid, "photo_too_large", "a photo is larger than allowed")
	ErrPhotoNotImage   = apperr.New(apperr.Invalid, "photo_not_image", "a photo is not an image of an accepted type")
	// ErrPhotoMetadata: the photo's location or camera metadata sits where it cannot be removed without
	// re-encoding (e.g. inside a HEIC's video track); it is refused rather than stored with it.
	ErrPhotoMetadata     = apperr.New(apperr.Invalid, "photo_metadata_unremovable", "a photo carries metadata (location, camera) that cannot be removed; send it as JPEG")
	ErrContentType       = apperr.New(apperr.Invalid, "unsupported_content_type", "contentType must be image/jpeg, image/png, image/webp or image/heic")
	ErrUploadSize        = apperr.New(apperr.Invalid, "invalid_size", "size must be between 1 byte and the upload limit")
	ErrInvalidCursor     = apperr.New(apperr.Invalid, "invalid_cursor", "the cursor is not valid")
	ErrInvalidLimit      = apperr.New(apperr.Invalid, "invalid_limit", "limit must be a whole number from 1 to 100")
	ErrUnsupportedCaller = apperr.New(apperr.Forbidden, "unsupported_subject", "your account id cannot be used for uploads")
)
