package blobstore

// WithPageSize makes ListVersions ask for n versions a call (S3's default and largest is 1,000), so a test
// crosses pages with a handful of versions.
func WithPageSize(s *Store, n int) *Store {
	s.pageSize = n
	return s
}
