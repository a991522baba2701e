package kpi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
)

// MaxEncodedBytes is the largest encoded snapshot: DynamoDB's item limit is 400 KB and the item's keys and
// names take a few dozen bytes. TestSnapshotSizeBound keeps every snapshot at the extremes far below it;
// Encode refuses, with a clear error, rather than let DynamoDB do it.
const MaxEncodedBytes = 390_000

// maxDecodedBytes bounds what DecodeSnapshot inflates.
const maxDecodedBytes = 16 << 20

// Encode is the snapshot as stored: gzip-compressed JSON. Its dense arrays of counts compress three to
// five times, which keeps a year's roll-up of 40 departments at about half of the item limit.
func (s Snapshot) Encode() ([]byte, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var z bytes.Buffer
	w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if z.Len() > MaxEncodedBytes {
		return nil, fmt.Errorf("kpi snapshot %s encodes to %d bytes, over %d", s.Date, z.Len(), MaxEncodedBytes)
	}
	return z.Bytes(), nil
}

// DecodeSnapshot reads what Encode wrote, or the plain JSON that snapshots were stored as before it, and
// normalizes it.
func DecodeSnapshot(b []byte) (Snapshot, error) {
	var s Snapshot
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		r, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return s, fmt.Errorf("decode kpi snapshot: %w", err)
		}
		if b, err = io.ReadAll(io.LimitReader(r, maxDecodedBytes)); err != nil {
			return s, fmt.Errorf("decode kpi snapshot: %w", err)
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("decode kpi snapshot: %w", err)
	}
	s.Normalize()
	return s, nil
}
