package dynamostore

import "context"

// ExpiryWarningCheckpoint reads the "about to expire" walk's checkpoint of a goods item ("" before its
// first run).
func (s *Store) ExpiryWarningCheckpoint(ctx context.Context, itemID string) (string, error) {
	return s.itemCheckpoint(ctx, itemID, "PICKUPWARNED", "expiry notice checkpoint")
}

// PutExpiryWarningCheckpoint moves the walk's checkpoint forward (never back).
func (s *Store) PutExpiryWarningCheckpoint(ctx context.Context, itemID, pos string) error {
	return s.putItemCheckpoint(ctx, itemID, "PICKUPWARNED", pos, "expiry notice checkpoint")
}
