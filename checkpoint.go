package aadhostlogincorrelation

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.uber.org/zap"

	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// checkpointKey is the storage key of the state.
const checkpointKey = "state"

// checkpointMarkerName names the processor's second storage client (with file_storage, a second
// file), whose one value, under checkpointMarkerKey, says since when checkpoints are written into
// this storage. It tells a lost checkpoint from a first start: file_storage takes a storage file
// removed or cut to 0 bytes for a new one and hands out an empty store, as on a first start, but
// the marker's file is still there.
const (
	checkpointMarkerName = "marker"
	checkpointMarkerKey  = "checkpointed_since"
)

// checkpointer saves the backend's state into a storage extension periodically and at shutdown,
// and restores it at start.
type checkpointer struct {
	client   storage.Client
	marker   storage.Client // the marker's client until the marker is written, then nil
	interval time.Duration
	stop     chan struct{}
	done     sync.WaitGroup
	saved    atomic.Int64 // checkpoints written
}

// startCheckpoints finds the storage extension, restores the last checkpoint and starts saving.
// A missing, lost or corrupt checkpoint is reported and ignored; a missing extension is an error.
func (p *correlationProcessor) startCheckpoints(ctx context.Context, host component.Host, id component.ID) error {
	cp, ok := p.backend.(state.Checkpointer)
	if p.cfg.Storage == nil || !ok {
		return nil
	}
	ext, found := host.GetExtensions()[*p.cfg.Storage]
	if !found {
		return fmt.Errorf("storage: invalid value %q: no such extension in service::extensions", p.cfg.Storage.String())
	}
	se, ok := ext.(storage.Extension)
	if !ok {
		return fmt.Errorf("storage: invalid value %q: not a storage extension", p.cfg.Storage.String())
	}
	client, data, err := readStorage(ctx, se, id, "", checkpointKey)
	if err != nil {
		// A storage file that cannot be opened (damaged, truncated) must not stop detection: run
		// without checkpoints, loudly, until the operator removes the file.
		p.telemetry.checkpointError(ctx)
		p.logger.Error("checkpoint storage unusable; starting with empty state and WITHOUT checkpoints "+
			"(state will not survive a restart): remove the damaged file from the storage directory",
			zap.String("storage", p.cfg.Storage.String()), zap.Error(err))
		return nil
	}
	c := &checkpointer{client: client, interval: p.cfg.CheckpointInterval, stop: make(chan struct{})}
	marker, since, err := readStorage(ctx, se, id, checkpointMarkerName, checkpointMarkerKey)
	switch {
	case err != nil:
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint marker unusable; a lost checkpoint will look like a first start: "+
			"remove the damaged file from the storage directory", zap.String("storage", p.cfg.Storage.String()), zap.Error(err))
	case since == nil:
		c.marker = marker // written with the first checkpoint
	default:
		_ = marker.Close(ctx)
	}

	switch {
	case data == nil && since != nil:
		// The storage holds no checkpoint, yet one was written: its file was removed, cut to 0
		// bytes or replaced.
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint lost; starting with empty state",
			zap.String("storage", p.cfg.Storage.String()), zap.ByteString("checkpointed_since", since),
			zap.Error(errors.New("the storage holds no checkpoint although one was written (storage file removed, truncated or replaced)")))
	case data == nil:
		p.logger.Info("no checkpoint yet; starting with empty state")
	default:
		err = errors.New("empty checkpoint (0 bytes): damaged")
		var ips, logons int
		if len(data) > 0 {
			p.mu.Lock()
			err = cp.Restore(data)
			ips, logons = p.backend.Sizes()
			p.mu.Unlock()
		}
		if err != nil {
			level := p.logger.Warn
			if errors.Is(err, window.ErrIncompatible) {
				level = p.logger.Info
			}
			level("checkpoint ignored; starting with empty state", zap.Error(err), zap.Int("bytes", len(data)))
			p.telemetry.checkpointError(ctx)
		} else {
			p.logger.Info("state restored from checkpoint", zap.Int("tracked_ips", ips), zap.Int("pending_logons", logons), zap.Int("bytes", len(data)))
		}
	}
	p.checkpoints = c
	c.done.Add(1)
	go p.checkpointLoop()
	return nil
}

// readStorage opens the processor's storage client called name and reads the value of key (nil if
// none). Storage extensions map their file into memory (file_storage's bbolt does), and a damaged
// file can fault on access instead of failing: a fault in this goroutine is turned into an error.
func readStorage(ctx context.Context, se storage.Extension, id component.ID, name, key string) (client storage.Client, data []byte, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			client, data, err = nil, nil, fmt.Errorf("storage file unreadable: %v", r)
		}
	}()
	client, err = se.GetClient(ctx, component.KindProcessor, id, name)
	if err != nil {
		return nil, nil, err
	}
	data, err = client.Get(ctx, key)
	if err != nil {
		_ = client.Close(ctx)
		return nil, nil, fmt.Errorf("reading %q: %w", key, err)
	}
	return client, data, nil
}

func (p *correlationProcessor) checkpointLoop() {
	c := p.checkpoints
	defer c.done.Done()
	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
			p.saveCheckpoint(context.Background())
		}
	}
}

// saveCheckpoint snapshots under the batch lock (so the state is consistent) and writes outside it.
func (p *correlationProcessor) saveCheckpoint(ctx context.Context) {
	p.mu.Lock()
	data, err := p.backend.(state.Checkpointer).Snapshot()
	p.mu.Unlock()
	if err == nil {
		err = p.checkpoints.client.Set(ctx, checkpointKey, data)
	}
	if err == nil {
		p.checkpoints.saved.Add(1)
	}
	if err != nil {
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint failed; state since the last one would be lost on a crash", zap.Error(err))
		return
	}
	if c := p.checkpoints; c.marker != nil {
		// A checkpoint is in this storage now: say so, once.
		err = c.marker.Set(ctx, checkpointMarkerKey, []byte(time.Now().UTC().Format(time.RFC3339)))
		if err == nil {
			marker := c.marker
			c.marker = nil
			err = marker.Close(ctx)
		}
		if err != nil {
			p.telemetry.checkpointError(ctx)
			p.logger.Warn("checkpoint marker not written; a lost checkpoint would look like a first start", zap.Error(err))
		}
	}
}

// stopCheckpoints stops the loop, saves the final state and closes the client.
func (p *correlationProcessor) stopCheckpoints(ctx context.Context) error {
	c := p.checkpoints
	if c == nil {
		return nil
	}
	close(c.stop)
	c.done.Wait()
	p.saveCheckpoint(ctx)
	p.checkpoints = nil
	err := c.client.Close(ctx)
	if c.marker != nil {
		err = errors.Join(err, c.marker.Close(ctx))
	}
	return err
}
