package builders

// JobStore is the store of jobs and matching (H2 fills it).
type JobStore interface{}
