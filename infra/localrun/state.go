package localrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/civicsnap/civicsnap/infra/motoserver"
	"github.com/civicsnap/civicsnap/shared/dispatch"
	"github.com/civicsnap/civicsnap/shared/dynamostore"
	"github.com/civicsnap/civicsnap/shared/market"
)

// Persistence (Options.StateDir): moto keeps everything in memory, so a stopped stack would forget the
// city's month of reports. With a state directory, Start loads what the last run saved — after the
// resources are created from the template, before the seed, the pumps and the API — and Shutdown saves
// it — after the API and the pumps have stopped, before moto does. moto does the work itself
// (infra/moto/state.py), under its request lock: no Scan through its API, which pages in O(n) per page.

// streamDrainOnStop bounds how long Shutdown lets the stream consumers finish before it saves: stream
// records are not saved (the streams of a restarted stack start at LATEST), so a report filed just before
// Ctrl-C is dispatched now or never.
const streamDrainOnStop = 5 * time.Second

// pumpStopWait bounds how long Shutdown waits for the pumps to return once cancelled.
const pumpStopWait = 15 * time.Second

// loadState applies the saved state to the freshly created resources. A saved state that cannot be
// applied whole fails the start: an empty stack that would overwrite it on the next save is worse.
func (st *Stack) loadState(ctx context.Context) error {
	sum, err := st.Moto.LoadState(ctx)
	if err != nil {
		return fmt.Errorf("load the saved state from %s: %w\n(it was left as it is; `make reset` deletes it, or point CIVICSNAP_STATE_DIR elsewhere)", st.stateDir, err)
	}
	st.Loaded = &sum
	if sum.Found {
		st.log.Info("state loaded", "dir", st.stateDir, "items", sum.Items, "objects", sum.Objects,
			"messages", sum.Messages, "bytes", sum.Bytes, "seconds", sum.Seconds, "savedAt", sum.SavedAt)
	}
	return nil
}

// Shutdown stops the API, lets the stream consumers finish, stops the pumps, saves the state (with
// Options.StateDir, and only if Start completed: a half-started stack must not overwrite a good state),
// then stops moto. It returns what it saved (nil if nothing). If moto died, nothing is saved and the
// error says why; the state saved before stays.
func (st *Stack) Shutdown(ctx context.Context) (saved *motoserver.StateSummary, err error) {
	var errs []error
	if st.server != nil {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		errs = append(errs, st.server.Shutdown(sctx))
		cancel()
	}
	persist := st.stateDir != "" && st.started
	if persist && st.pumps != nil && st.Moto.Err() == nil {
		dctx, cancel := context.WithTimeout(ctx, streamDrainOnStop)
		if err := st.drainStreams(dctx); err != nil {
			st.log.Warn("stream consumers still busy at the save; records they had not read are not saved", "err", err)
		}
		cancel()
	}
	if st.cancel != nil {
		st.cancel()
		select {
		case <-st.pumpsDone:
		case <-ctx.Done():
		case <-time.After(pumpStopWait):
			// A handler that ignores its context must not keep the state from being saved.
			st.log.Warn("pumps still running after " + pumpStopWait.String() + "; stopping without them")
		}
	}
	if persist {
		if mErr := st.Moto.Err(); mErr != nil {
			errs = append(errs, fmt.Errorf("state not saved (the state saved before is kept): %w", mErr))
		} else if sum, err := st.Moto.SaveState(ctx); err != nil {
			errs = append(errs, fmt.Errorf("save state to %s (the state saved before is kept): %w", st.stateDir, err))
		} else {
			saved = &sum
			st.log.Info("state saved", "dir", st.stateDir, "items", sum.Items, "objects", sum.Objects,
				"messages", sum.Messages, "bytes", sum.Bytes, "seconds", sum.Seconds)
		}
	}
	if st.Moto != nil {
		if st.Moto.Err() == nil {
			errs = append(errs, st.Moto.Stop())
		} else if !persist {
			errs = append(errs, st.Moto.Err()) // with persist it is reported above
		}
	}
	if st.unlock != nil {
		st.unlock()
	}
	return saved, errors.Join(errs...)
}

// serveSave serves POST /_local/state/save: a checkpoint now, with the stack running (moto applies it
// under its request lock, so it is consistent). A loader can call it after a long import, so that a crash
// of moto or of the machine before the next clean stop does not take the import along.
func (st *Stack) serveSave(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	sum, err := st.Moto.SaveState(r.Context())
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": "state_not_saved", "message": err.Error()}})
		return
	}
	_ = json.NewEncoder(w).Encode(sum)
}

func (st *Stack) drainStreams(ctx context.Context) error {
	for _, p := range st.pumps.Streams {
		if err := p.Drain(ctx); err != nil {
			return fmt.Errorf("%s: %w", p.Function(), err)
		}
	}
	return nil
}

// superviseMoto stops the pumps as soon as moto dies, so they do not poll a dead endpoint and log an
// error every cycle; whoever runs the stack learns it from Moto.Done and Moto.Err.
func (st *Stack) superviseMoto() {
	<-st.Moto.Done()
	if err := st.Moto.Err(); err != nil {
		st.log.Error("moto exited; pumps stopped", "err", err)
		st.cancel()
	}
}

// keepEdits is the seed's store when a saved state was loaded: the saved configuration is the record, and
// the seed only adds what is missing (a category, department, area, rule or catalog item new in the seed
// files). Writing the seed over it would undo an admin's edits to departments, areas, rules and the
// catalog, and reset every goods item's stock — redemptions made would come back on the shelf.
// Categories are the exception: no API edits them, so the seed files stay their source.
type keepEdits struct {
	*dynamostore.Store
}

// PutDepartment adds a missing department. An existing one is kept, except that a webhook pointing at an
// earlier run's local sink (another PORT) is moved to this run's: that URL is the seed's, not an edit.
func (k keepEdits) PutDepartment(ctx context.Context, d dispatch.Department) error {
	old, err := k.Department(ctx, d.ID)
	if errors.Is(err, dispatch.ErrConfigMissing) {
		return k.Store.PutDepartment(ctx, d)
	}
	if err != nil {
		return err
	}
	if old.WebhookURL != d.WebhookURL && isLocalSink(old.WebhookURL, d.ID) && isLocalSink(d.WebhookURL, d.ID) {
		old.WebhookURL = d.WebhookURL
		return k.Store.PutDepartment(ctx, old)
	}
	return nil
}

// isLocalSink reports whether raw is a loopback URL of the local sink of dept.
func isLocalSink(raw, dept string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "http" && u.Hostname() == "127.0.0.1" && u.Path == "/_local/sink/"+dept
}

// PutArea adds a missing area.
func (k keepEdits) PutArea(ctx context.Context, a dispatch.Area) error {
	_, err := k.Area(ctx, a.ID)
	if errors.Is(err, dispatch.ErrConfigMissing) {
		return k.Store.PutArea(ctx, a)
	}
	return err
}

// PutRule adds a missing rule.
func (k keepEdits) PutRule(ctx context.Context, r dispatch.Rule) error {
	_, err := k.Rule(ctx, r.ID)
	if errors.Is(err, dispatch.ErrConfigMissing) {
		return k.Store.PutRule(ctx, r)
	}
	return err
}

// PutItem adds a missing catalog item with its stock; an existing one keeps its stock.
func (k keepEdits) PutItem(ctx context.Context, it market.Item, resetStock bool) error {
	_, err := k.Item(ctx, it.ID)
	if errors.Is(err, market.ErrItemNotFound) {
		return k.Store.PutItem(ctx, it, resetStock)
	}
	return err
}
