package builders

import "context"

// JobStore is the store of jobs and matching (shared/dynamostore builders_job.go).
type JobStore interface {
	// Job reads a job as stored, strongly consistently (ErrJobNotFound).
	Job(ctx context.Context, id string) (Job, error)
	// FillRepair marks an open job whose places are all taken filled: its listing keys go and its
	// employer's open jobs drop by one, once (a no-op for any other job).
	FillRepair(ctx context.Context, jobID string) error
	// SetJobListed takes an open job out of the listings (its employer suspended) or puts it back.
	SetJobListed(ctx context.Context, jobID string, listed bool) error
}
