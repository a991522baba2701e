package motoserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Errors of LoadState (and SaveState), matched with errors.Is. Each comes with infra/moto/state.py's
// explanation. A refused load changes nothing in moto; the saved state is left as it is on disk.
var (
	// ErrStateVersion: the saved state was written in another format version.
	ErrStateVersion = errors.New("saved state has another format version")
	// ErrStateCorrupt: the manifest or a file it lists is missing, truncated or altered.
	ErrStateCorrupt = errors.New("saved state is corrupt")
	// ErrStateMismatch: the saved state holds a table, bucket or queue the running stack did not create.
	ErrStateMismatch = errors.New("saved state does not fit this stack")
)

// StateSummary is what SaveState wrote or LoadState applied.
type StateSummary struct {
	Found       bool         `json:"found"` // false: LoadState found no saved state (a first run)
	Dir         string       `json:"dir,omitempty"`
	SavedAt     time.Time    `json:"savedAt"`
	Tables      []TableItems `json:"tables"`
	Items       int          `json:"items"`       // DynamoDB items, all tables
	Objects     int          `json:"objects"`     // S3 objects, all buckets
	ObjectBytes int64        `json:"objectBytes"` // their bytes
	Messages    int          `json:"messages"`    // SQS messages, all queues (in flight included)
	Bytes       int64        `json:"bytes"`       // size of the snapshot on disk
	Seconds     float64      `json:"seconds"`     // time moto took, under its request lock
}

// TableItems is one table's item count in a StateSummary.
type TableItems struct {
	Table string `json:"table"`
	Items int    `json:"items"`
}

// String is a one-line account, e.g. "48210 items, 312 objects (41.2 MB), 3 messages; 97.1 MB on disk, 2.4 s".
func (s StateSummary) String() string {
	return fmt.Sprintf("%d items, %d objects (%s), %d messages; %s on disk, %.1f s",
		s.Items, s.Objects, byteSize(s.ObjectBytes), s.Messages, byteSize(s.Bytes), s.Seconds)
}

func byteSize(n int64) string {
	switch {
	case n < 1e3:
		return fmt.Sprintf("%d B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.2f GB", float64(n)/1e9)
}

// SaveState writes moto's DynamoDB items, S3 objects and SQS messages to Options.StateDir, atomically:
// until the new snapshot is complete the previous one stays the saved state. moto serves nothing else
// meanwhile. If moto dies during the save, the error says so, with the end of its stderr.
func (s *Server) SaveState(ctx context.Context) (StateSummary, error) {
	return s.stateCall(ctx, "save")
}

// LoadState applies the state saved in Options.StateDir to the resources that exist now: call it after
// creating them and before anything reads or writes. With nothing saved yet it returns a summary with
// Found false. A saved state that cannot be applied whole is refused (ErrStateVersion, ErrStateCorrupt,
// ErrStateMismatch) before anything is changed.
func (s *Server) LoadState(ctx context.Context) (StateSummary, error) {
	return s.stateCall(ctx, "load")
}

func (s *Server) stateCall(ctx context.Context, op string) (StateSummary, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint+"/_civicsnap/state/"+op, nil)
	if err != nil {
		return StateSummary{}, fmt.Errorf("motoserver: %s state: %w", op, err)
	}
	// No client timeout: a save of a big table takes seconds to minutes; ctx bounds it.
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return StateSummary{}, s.failed(ctx, op, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return StateSummary{}, s.failed(ctx, op, err)
	}
	if resp.StatusCode == http.StatusOK {
		var sum StateSummary
		if err := json.Unmarshal(body, &sum); err != nil {
			return StateSummary{}, fmt.Errorf("motoserver: %s state: unreadable answer: %w", op, err)
		}
		return sum, nil
	}
	var e struct{ Error, Code string }
	if json.Unmarshal(body, &e) != nil || e.Code == "" {
		return StateSummary{}, fmt.Errorf("motoserver: %s state: moto answered %s, not its state route (was it started with Options.StateDir?): %.200s",
			op, resp.Status, body)
	}
	kind := map[string]error{"state_version": ErrStateVersion, "state_corrupt": ErrStateCorrupt, "state_mismatch": ErrStateMismatch}[e.Code]
	if kind == nil {
		return StateSummary{}, fmt.Errorf("motoserver: %s state failed: %s", op, e.Error)
	}
	return StateSummary{}, fmt.Errorf("motoserver: %s state: %w: %s", op, kind, e.Error)
}

// failed explains a call that got no answer: usually moto died under it, and then the reason is its exit
// and the end of its stderr, not "connection reset".
func (s *Server) failed(ctx context.Context, op string, err error) error {
	if ctx.Err() == nil {
		// The broken connection is seen before the process is reaped; give that a moment.
		select {
		case <-s.exited:
		case <-time.After(2 * time.Second):
		}
	}
	if exitErr := s.Err(); exitErr != nil {
		return fmt.Errorf("motoserver: %s state: %w", op, exitErr)
	}
	return fmt.Errorf("motoserver: %s state: %w", op, err)
}
