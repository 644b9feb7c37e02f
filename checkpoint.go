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

	"github.com/secops-otel/aadhostlogincorrelation/internal/checkpoint"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// checkpointKey is the storage key of the checkpoint format before the journal (one value holding
// the whole state). A checkpoint found there is restored once and rewritten as a base.
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

// checkpointBasesName names the processor's third storage client (with file_storage, a third file),
// which holds the checkpoint's base snapshots; the first holds the meta and the journal. A storage
// takes one writer at a time, and file_storage one per file: apart, a batch that carries an alert,
// which writes the journal before it returns, never waits behind a compaction writing a base.
const checkpointBasesName = "bases"

// minCompactBytes is the journal a compaction waits for at least; beyond it, a compaction starts
// when the journal outgrows a quarter of the base: a restore replays at most a quarter of a base's
// worth of journal (replaying a byte of journal costs about what restoring a byte of base does),
// and each byte observed is written about five times in all.
const minCompactBytes = 1 << 20

// maxUnwrittenBytes is how much journal the processor keeps in memory while the storage fails.
const maxUnwrittenBytes = 64 << 20

// checkpointer keeps the memory backend's state in a storage extension: a journal of what the
// state observed, flushed every interval (and before a batch that carries an alert returns), onto
// a base snapshot that a background compaction rebuilds from the storage itself. The batch path
// only appends to the journal in memory.
type checkpointer struct {
	client   storage.Client // the meta and the journal
	bases    storage.Client // the base snapshots (nil: in client)
	marker   storage.Client // the marker's client until the marker is written, then nil
	interval time.Duration
	memory   *state.Memory // the live state, once restored
	store    *checkpoint.Store

	ctx      context.Context // cancelled at shutdown: stops a restore's writes and a compaction
	cancel   context.CancelFunc
	stop     chan struct{}
	done     sync.WaitGroup
	restored chan struct{} // closed when the restore is over (store and memory set, or not usable)

	flushMu   sync.Mutex // one flush at a time, so that chunks keep the journal's order
	unwritten []byte     // journal records a failed flush could not write, first in the next one
	// maxUnwritten bounds unwritten: beyond it (a storage failing for long) the records are dropped
	// and the next write is a new base of the whole state.
	maxUnwritten int
	rebaseNext   bool // the journal lost records: the next write is a base of the whole state
	compacting   atomic.Bool
	saved        atomic.Int64 // journal chunks written
	compacted    atomic.Int64 // compactions done
}

// startCheckpoints finds the storage extension and starts restoring the last checkpoint in the
// background (batches pass through uncorrelated until it is done). A missing, lost or corrupt
// checkpoint is reported and ignored; a missing extension is an error.
func (p *correlationProcessor) startCheckpoints(ctx context.Context, host component.Host, id component.ID) error {
	if p.cfg.Storage == nil || p.cfg.State == StateRedis {
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
	client, legacy, err := readStorage(ctx, se, id, "", checkpointKey)
	if err != nil {
		// A storage file that cannot be opened (damaged, truncated) must not stop detection: run
		// without checkpoints, loudly, until the operator removes the file.
		p.telemetry.checkpointError(ctx)
		p.logger.Error("checkpoint storage unusable; starting with empty state and WITHOUT checkpoints "+
			"(state will not survive a restart): remove the damaged file from the storage directory",
			zap.String("storage", p.cfg.Storage.String()), zap.Error(err))
		return nil
	}
	c := &checkpointer{client: client, interval: p.cfg.CheckpointInterval, stop: make(chan struct{}), restored: make(chan struct{}),
		maxUnwritten: maxUnwrittenBytes}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	if c.bases, _, err = readStorage(ctx, se, id, checkpointBasesName, ""); err != nil {
		// Checkpoints still work with new bases beside the journal (only a compaction's writes can
		// then hold up a batch that carries an alert); a checkpoint whose base is in the bases'
		// storage is left as it is, and the processor runs without checkpoints (restoreCheckpoint).
		p.telemetry.checkpointError(ctx)
		p.logger.Error("checkpoint bases' storage unusable; new bases are kept beside the journal, and a checkpoint "+
			"whose base is in it is not used: remove the damaged file from the storage directory",
			zap.String("storage", p.cfg.Storage.String()), zap.Error(err))
	}
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
	p.mu.Lock()
	p.restoring = true
	p.checkpoints = c
	p.mu.Unlock()
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		p.restoreCheckpoint(legacy, since)
		p.checkpointLoop()
	}()
	return nil
}

// restoreCheckpoint reads the checkpoint into a new memory backend, rewrites it when it was
// damaged or of the earlier format, and makes it the live state.
func (p *correlationProcessor) restoreCheckpoint(legacy, since []byte) {
	c := p.checkpoints
	ctx := c.ctx
	started := time.Now()
	mem := state.NewMemory(p.engine)
	store, ld, err := openStore(ctx, c.client, c.bases, mem)
	rebase := err != nil
	switch {
	case err != nil && store == nil:
		// The storage faulted: run on without checkpoints.
		p.telemetry.checkpointError(ctx)
		p.logger.Error("checkpoint storage unusable; starting with empty state and WITHOUT checkpoints", zap.Error(err))
		mem = state.NewMemory(p.engine)
	case err != nil:
		level := p.logger.Warn
		if errors.Is(err, window.ErrIncompatible) || errors.Is(err, checkpoint.ErrIncompatible) {
			level = p.logger.Info
		}
		msg := "checkpoint ignored; starting with empty state"
		if ips, logons := mem.Sizes(); ld.BaseBytes > 0 || ld.Chunks > 0 || ips+logons > 0 {
			msg = "checkpoint damaged; state restored up to the damage"
		}
		level(msg, zap.Error(err), zap.Int64("base_bytes", ld.BaseBytes), zap.Int("journal_chunks", ld.Chunks))
		p.telemetry.checkpointError(ctx)
	case !ld.Found && legacy != nil:
		// The earlier format: one value with the whole state.
		rebase = true
		err = errors.New("empty checkpoint (0 bytes): damaged")
		if len(legacy) > 0 {
			err = mem.Restore(legacy)
		}
		if err != nil {
			level := p.logger.Warn
			if errors.Is(err, window.ErrIncompatible) {
				level = p.logger.Info
			}
			level("checkpoint ignored; starting with empty state", zap.Error(err), zap.Int("bytes", len(legacy)))
			p.telemetry.checkpointError(ctx)
		} else {
			ips, logons := mem.Sizes()
			p.logger.Info("state restored from checkpoint", zap.Int("tracked_ips", ips), zap.Int("pending_logons", logons),
				zap.Int("bytes", len(legacy)), zap.Duration("took", time.Since(started)))
		}
	case !ld.Found && since != nil:
		// The storage holds no checkpoint, yet one was written: its file was removed, cut to 0
		// bytes or replaced.
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint lost; starting with empty state",
			zap.String("storage", p.cfg.Storage.String()), zap.ByteString("checkpointed_since", since),
			zap.Error(errors.New("the storage holds no checkpoint although one was written (storage file removed, truncated or replaced)")))
	case !ld.Found:
		p.logger.Info("no checkpoint yet; starting with empty state")
	default:
		ips, logons := mem.Sizes()
		p.logger.Info("state restored from checkpoint", zap.Int("tracked_ips", ips), zap.Int("pending_logons", logons),
			zap.Int64("base_bytes", ld.BaseBytes), zap.Int64("journal_bytes", ld.JournalBytes), zap.Int("journal_chunks", ld.Chunks),
			zap.Duration("took", time.Since(started)))
	}
	if store != nil && rebase {
		// Start the checkpoint afresh from the state restored (what was usable of it, or nothing).
		err := p.rebase(ctx, store, mem)
		if err == nil && legacy != nil {
			err = c.client.Delete(ctx, checkpointKey)
		}
		if err != nil {
			p.telemetry.checkpointError(ctx)
			p.logger.Warn("checkpoint not rewritten; the next start may find the damage again", zap.Error(err))
		}
	}
	if store != nil {
		if err := store.Sweep(ctx); err != nil {
			p.logger.Warn("checkpoint storage: leftover keys not deleted", zap.Error(err))
		}
		mem.Journal(true)
	}
	p.mu.Lock()
	c.store, c.memory = store, mem
	p.backend = mem
	p.restoring = false
	p.mu.Unlock()
	close(c.restored)
}

// openStore is checkpoint.Open with a fault of the storage's memory map turned into an error (and
// a nil store): file_storage's bbolt maps its file, and a damaged file can fault on access. A
// checkpoint whose base is in a bases' storage that could not be opened gives a nil store too: the
// processor runs without checkpoints, and the checkpoint is left for the next start.
func openStore(ctx context.Context, client, bases storage.Client, mem *state.Memory) (store *checkpoint.Store, ld checkpoint.Loaded, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			store, err = nil, fmt.Errorf("storage file unreadable: %v", r)
		}
	}()
	store, ld, err = checkpoint.Open(ctx, client, bases, mem.RuleSet(), mem)
	if errors.Is(err, checkpoint.ErrBasesUnavailable) {
		// Not damage: run without checkpoints rather than replace a good one.
		return nil, ld, fmt.Errorf("%w (its file could not be opened: see the error before)", err)
	}
	return store, ld, err
}

// rebase writes mem's state as the checkpoint's new base.
func (p *correlationProcessor) rebase(ctx context.Context, store *checkpoint.Store, mem *state.Memory) error {
	var snapshot []byte
	if ips, logons := mem.Sizes(); ips+logons > 0 {
		var err error
		if snapshot, err = mem.Snapshot(); err != nil {
			return err
		}
	}
	before := store.Written()
	err := store.Rebase(ctx, snapshot)
	p.telemetry.checkpointBytes(ctx, store.Written()-before)
	if err == nil {
		p.markCheckpointed(ctx)
	}
	return err
}

// readStorage opens the processor's storage client called name and reads the value of key (nil if
// none; no read for an empty key). Storage extensions map their file into memory (file_storage's bbolt does), and a damaged
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
	if key == "" {
		return client, nil, nil
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
	ticker := time.NewTicker(c.interval)
	defer ticker.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-ticker.C:
			p.flushCheckpoint(c.ctx)
		}
	}
}

// flushCheckpoint writes the journal since the last flush as a chunk, and starts a compaction when
// the journal has outgrown the base. It never holds the batch lock.
func (p *correlationProcessor) flushCheckpoint(ctx context.Context) {
	c := p.checkpoints
	if c.store == nil {
		return // restore not over, or no usable storage
	}
	c.flushMu.Lock()
	if c.rebaseNext {
		c.flushMu.Unlock()
		p.rebaseLive(ctx)
		return
	}
	records, _ := c.memory.TakeJournal()
	if len(c.unwritten) > 0 {
		records = append(c.unwritten, records...)
		c.unwritten = nil
	}
	if len(records) == 0 {
		c.flushMu.Unlock()
		return
	}
	before := c.store.Written()
	err := c.store.Append(ctx, records)
	if err != nil {
		c.unwritten = records // keeps the journal whole: written with the next flush
		if len(records) > c.maxUnwritten {
			c.unwritten, c.rebaseNext = nil, true
			p.logger.Warn("checkpoint journal dropped after failed writes; the next checkpoint writes the whole state",
				zap.Int("bytes", len(records)))
		}
	}
	c.flushMu.Unlock()
	p.telemetry.checkpointBytes(ctx, c.store.Written()-before)
	if err != nil {
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint failed; state since the last one would be lost on a crash", zap.Error(err))
		return
	}
	c.saved.Add(1)
	p.markCheckpointed(ctx)
	if base, journal := c.store.Sizes(); journal > max(minCompactBytes, base/4) && c.compacting.CompareAndSwap(false, true) {
		c.done.Add(1)
		go p.compact()
	}
}

// rebaseLive writes the live state as a new base, after the journal lost records. The snapshot is
// taken under the batch lock (batches wait for it): this happens only after the storage failed for
// long.
func (p *correlationProcessor) rebaseLive(ctx context.Context) {
	c := p.checkpoints
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	p.mu.Lock()
	c.memory.TakeJournal() // the snapshot holds it
	snapshot, err := c.memory.Snapshot()
	p.mu.Unlock()
	if err == nil {
		before := c.store.Written()
		err = c.store.Rebase(ctx, snapshot)
		p.telemetry.checkpointBytes(ctx, c.store.Written()-before)
	}
	if err != nil {
		p.telemetry.checkpointError(ctx)
		p.logger.Warn("checkpoint failed; state since the last one would be lost on a crash", zap.Error(err))
		return
	}
	c.rebaseNext = false
	c.saved.Add(1)
}

// compact rebuilds the checkpoint's base from the storage, off the batch path.
func (p *correlationProcessor) compact() {
	c := p.checkpoints
	defer c.done.Done()
	defer c.compacting.Store(false)
	started := time.Now()
	before := c.store.Written()
	err := p.compactCheckpoint(c.ctx)
	p.telemetry.checkpointBytes(c.ctx, c.store.Written()-before)
	switch {
	case err != nil && c.ctx.Err() != nil:
		return // shutting down
	case errors.Is(err, checkpoint.ErrNotDeleted):
		p.telemetry.checkpointError(c.ctx)
		p.logger.Warn("checkpoint compacted, but the storage kept some of what the compaction replaced", zap.Error(err))
	case err != nil:
		p.telemetry.checkpointError(c.ctx)
		p.logger.Warn("checkpoint compaction failed; the journal goes on growing until one succeeds", zap.Error(err))
		return
	}
	c.compacted.Add(1)
	base, journal := c.store.Sizes()
	p.logger.Debug("checkpoint compacted", zap.Int64("base_bytes", base), zap.Int64("journal_bytes", journal), zap.Duration("took", time.Since(started)))
}

// A compaction works in slices of compactWork, each followed by a rest of compactRest: at most a
// third of one CPU, so that a batch finds a CPU free even while the garbage collector's workers
// hold the other one, and waits at most about one slice when it does not. At 1 M addresses and
// 1 M waiting logons a compaction takes some 3 CPU-seconds, so about 10 s.
const (
	compactWork = 500 * time.Microsecond
	compactRest = time.Millisecond
)

// compactCheckpoint rebuilds the checkpoint's base in a replica of the state (state.Replica: the
// live state's engine, keeping waiting logons as the bytes they were read from), paced.
func (p *correlationProcessor) compactCheckpoint(ctx context.Context) error {
	c := p.checkpoints
	pace := checkpoint.NewPacer(ctx, compactWork, compactRest)
	return c.store.Compact(ctx, state.NewReplica(p.engine, pace.Step), pace)
}

// markCheckpointed writes the marker once a checkpoint is in the storage.
func (p *correlationProcessor) markCheckpointed(ctx context.Context) {
	c := p.checkpoints
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	if c.marker == nil {
		return
	}
	err := c.marker.Set(ctx, checkpointMarkerKey, []byte(time.Now().UTC().Format(time.RFC3339)))
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

// stopCheckpoints waits for the restore, stops the loop and a compaction, writes the final journal
// and closes the clients.
func (p *correlationProcessor) stopCheckpoints(ctx context.Context) error {
	c := p.checkpoints
	if c == nil {
		return nil
	}
	c.abandon()
	// A batch still in flight finishes and is journaled first: taking the batch lock waits for it.
	p.mu.Lock()
	p.mu.Unlock() //nolint:staticcheck // SA2001: the empty critical section is the wait
	p.flushCheckpoint(ctx)
	p.checkpoints = nil
	err := c.client.Close(ctx)
	if c.bases != nil {
		err = errors.Join(err, c.bases.Close(ctx))
	}
	if c.marker != nil {
		err = errors.Join(err, c.marker.Close(ctx))
	}
	return err
}

// abandon stops the loop and a compaction, after the restore, and writes nothing more.
func (c *checkpointer) abandon() {
	<-c.restored
	c.cancel()
	close(c.stop)
	c.done.Wait()
}
