package aadhostlogincorrelation

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/filestorage"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/extension"
	"go.opentelemetry.io/collector/extension/extensiontest"
	"go.opentelemetry.io/collector/extension/xextension/storage"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/secops-otel/aadhostlogincorrelation/internal/checkpoint/checkpointtest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/metadata"
	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
)

// storageRig is a real file_storage extension over a directory that outlives the processors
// started on it, as a file_storage directory outlives a collector process.
type storageRig struct {
	id   component.ID
	ext  extension.Extension
	dir  string
	logs *observer.ObservedLogs // the log of the processor started last
	// noWait: start returns as soon as the processor started, without waiting for its restore.
	noWait bool
}

func newStorageRig(t *testing.T) *storageRig {
	t.Helper()
	factory := filestorage.NewFactory()
	cfg := factory.CreateDefaultConfig().(*filestorage.Config)
	cfg.Directory = t.TempDir()
	id := component.MustNewIDWithName("file_storage", "state")
	ext, err := factory.Create(context.Background(), extensiontest.NewNopSettings(factory.Type()), cfg)
	require.NoError(t, err)
	require.NoError(t, ext.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, ext.Shutdown(context.Background())) })
	return &storageRig{id: id, ext: ext, dir: cfg.Directory}
}

func (r *storageRig) host() component.Host {
	return hostWith{component.NewID(component.MustNewType("nop")): nil, r.id: r.ext}
}

// hostWith is a component.Host with the given extensions.
type hostWith map[component.ID]component.Component

func (h hostWith) GetExtensions() map[component.ID]component.Component { return h }

// start starts a processor that checkpoints into the rig; stop shuts it down cleanly, crash
// abandons it as a killed process would: no final checkpoint, the storage released.
func (r *storageRig) start(t *testing.T, interval time.Duration) (h *harness, stop, crash func(), p *correlationProcessor) {
	t.Helper()
	return r.startWith(t, interval, nil)
}

// startWith is start with the configuration changed by mutate.
func (r *storageRig) startWith(t *testing.T, interval time.Duration, mutate func(*Config)) (h *harness, stop, crash func(), p *correlationProcessor) {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	cfg.Storage = &r.id
	cfg.CheckpointInterval = interval
	if mutate != nil {
		mutate(cfg)
	}
	h = &harness{t: t, sink: new(consumertest.LogsSink), tel: componenttest.NewTelemetry()}
	set := metadatatest.NewSettings(h.tel)
	var core zapcore.Core
	core, r.logs = observer.New(zap.InfoLevel)
	set.Logger = zap.New(core)
	p, err := newCorrelationProcessor(set, cfg)
	require.NoError(t, err)
	proc, err := processorhelper.NewLogs(context.Background(), set, cfg, h.sink, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), r.host()))
	if p.checkpoints != nil && !r.noWait {
		<-p.checkpoints.restored // batches sent before pass through uncorrelated (TestRecordsPassThroughWhileRestoring)
	}
	h.proc = proc
	stop = func() { require.NoError(t, proc.Shutdown(context.Background())) }
	crash = func() {
		c := p.checkpoints
		c.abandon()
		require.NoError(t, c.client.Close(context.Background()))
		if c.bases != nil {
			require.NoError(t, c.bases.Close(context.Background()))
		}
		if c.marker != nil {
			require.NoError(t, c.marker.Close(context.Background()))
		}
	}
	return h, stop, crash, p
}

// read returns the value of key in the processor's storage, nil if none.
func (r *storageRig) read(t *testing.T, key string) []byte {
	t.Helper()
	client, err := r.ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), "")
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(context.Background())) }()
	data, err := client.Get(context.Background(), key)
	require.NoError(t, err)
	return data
}

// keys returns every key in the processor's storage (its main client), with its value.
func (r *storageRig) keys(t *testing.T) map[string][]byte {
	t.Helper()
	return r.clientKeys(t, "")
}

// clientKeys returns every key in the processor's storage client called name, with its value.
func (r *storageRig) clientKeys(t *testing.T, name string) map[string][]byte {
	t.Helper()
	client, err := r.ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), name)
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(context.Background())) }()
	out := map[string][]byte{}
	require.NoError(t, client.(storage.Walker).Walk(context.Background(), func(k string, v []byte) ([]*storage.Operation, error) {
		out[k] = bytes.Clone(v)
		return nil, nil
	}))
	return out
}

// set sets key in the processor's storage.
func (r *storageRig) set(t *testing.T, key string, data []byte) {
	t.Helper()
	client, err := r.ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), "")
	require.NoError(t, err)
	require.NoError(t, client.Set(context.Background(), key, data))
	require.NoError(t, client.Close(context.Background()))
}

// write stores data as a checkpoint of the earlier format (one value, the whole state).
func (r *storageRig) write(t *testing.T, data []byte) {
	t.Helper()
	client, err := r.ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), "")
	require.NoError(t, err)
	require.NoError(t, client.Set(context.Background(), checkpointKey, data))
	require.NoError(t, client.Close(context.Background()))
}

func restartScenario() (first, second *batch) {
	first = newBatch().
		failures(signinLogs, attackerIP, 6, at(0)).
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).      // alerts before the restart
		sshd("web02", "sshd", accepted("bob", "198.51.100.20"), 4, at(2*time.Minute)). // waits for failures
		failures(nonInter, "198.51.100.30", 5, at(0)).                                 // one short of a burst
		sshd("web03", "sshd", accepted("carol", "198.51.100.30"), 4, at(3*time.Minute))
	second = newBatch().
		failures(signinLogs, "198.51.100.20", 6, at(90*time.Second)). // completes web02's logon
		failures(nonInter, "198.51.100.30", 1, at(10*time.Second)).   // completes the burst for web03
		failures(signinLogs, attackerIP, 2, at(70*time.Second))       // must not alert web01 again
	return first, second
}

func TestRestartIsInvisible(t *testing.T) {
	want := func() []summary {
		h := newHarness(t, nil)
		first, second := restartScenario()
		return append(summarize(h.consume(first)), summarize(h.consume(second))...)
	}()
	require.Equal(t, []summary{
		{attackerIP, "web01", signinLogs, "Syslog"},
		{"198.51.100.20", "web02", signinLogs, "Syslog"},
		{"198.51.100.30", "web03", nonInter, "Syslog"},
	}, want)

	rig := newStorageRig(t)
	first, second := restartScenario()
	h1, stop1, _, _ := rig.start(t, time.Hour)
	got := summarize(h1.consume(first))
	stop1() // a clean stop saves the state
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	got = append(got, summarize(h2.consume(second))...)
	assert.Equal(t, want, got)
}

func TestCrashKeepsWhatTheLastCheckpointHeld(t *testing.T) {
	rig := newStorageRig(t)
	h1, _, crash, p1 := rig.start(t, 10*time.Millisecond)
	// Nothing alerts: only the periodic checkpoint writes this.
	require.Empty(t, h1.consume(newBatch().
		failures(signinLogs, attackerIP, 6, at(0)).
		sshd("web02", "sshd", accepted("bob", "198.51.100.20"), 4, at(2*time.Minute))))
	require.Eventually(t, func() bool { return p1.checkpoints.saved.Load() > 0 }, 10*time.Second, 5*time.Millisecond)
	crash()
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Equal(t, []summary{
		{attackerIP, "web01", signinLogs, "Syslog"},
		{"198.51.100.20", "web02", signinLogs, "Syslog"},
	}, summarize(h2.consume(newBatch().
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).
		failures(signinLogs, "198.51.100.20", 6, at(90*time.Second)))))
}

// TestCrashBeforeAnyCheckpointStartsEmpty: batches that alert nothing are written only every
// checkpoint_interval; a crash before the first loses them.
func TestCrashBeforeAnyCheckpointStartsEmpty(t *testing.T) {
	rig := newStorageRig(t)
	h1, _, crash, _ := rig.start(t, time.Hour)
	require.Empty(t, h1.consume(newBatch().
		failures(signinLogs, attackerIP, 6, at(0)).
		sshd("web02", "sshd", accepted("bob", "198.51.100.20"), 4, at(2*time.Minute))))
	crash()
	require.Empty(t, rig.keys(t), "nothing written")
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).
		failures(signinLogs, "198.51.100.20", 6, at(90*time.Second))), "nothing was checkpointed, so nothing waits")
}

// TestAlertIsNotMadeTwiceAcrossACrash: a logon and five failures are checkpointed; the sixth
// failure alerts, and the processor is killed before the next checkpoint_interval. The alert's
// mark was written before the alert left, so the seventh failure after the restart does not
// alert again.
func TestAlertIsNotMadeTwiceAcrossACrash(t *testing.T) {
	rig := newStorageRig(t)
	h1, _, crash, p1 := rig.start(t, time.Hour)
	require.Empty(t, h1.consume(newBatch().
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).
		failures(signinLogs, attackerIP, 5, at(0))))
	p1.flushCheckpoint(context.Background()) // the periodic checkpoint
	require.Len(t, h1.consume(newBatch().failures(signinLogs, attackerIP, 1, at(10*time.Second))), 1)
	crash()
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().failures(signinLogs, attackerIP, 1, at(20*time.Second))), "alerted before the crash")
	assert.Len(t, h2.consume(newBatch().failures(nonInter, attackerIP, 6, at(20*time.Second))), 1,
		"the other table's alert is still to come: the logon was restored")
}

// TestCorruptCheckpointIsReportedAndIgnored: a journal chunk with a flipped byte fails its checksum;
// it is reported, counted and ignored, and nothing after it is used.
func TestCorruptCheckpointIsReportedAndIgnored(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, _ := rig.start(t, time.Hour)
	h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	stop1()
	data := rig.read(t, "j/0")
	require.NotEmpty(t, data)
	data[len(data)/2] ^= 0xff
	rig.set(t, "j/0", data)

	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))),
		"the corrupt state is not used")
	metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, h2.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "checkpoint"))},
	}, metricdatatest.IgnoreTimestamp())
}

// TestCheckpointOfOtherRulesIsRefused: a checkpoint made for one rule set decides differently under
// another; it is refused, logged and counted, and the processor starts empty.
func TestCheckpointOfOtherRulesIsRefused(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, _ := rig.start(t, time.Hour)
	h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	stop1()

	h2, stop2, _, _ := rig.startWith(t, time.Hour, withRules("aad-then-host", "host-then-aad"))
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))),
		"the other rule set's state is not used")
	refused := rig.logs.FilterMessage("checkpoint ignored; starting with empty state").AllUntimed()
	require.Len(t, refused, 1)
	assert.Contains(t, refused[0].ContextMap()["error"], "made for other rules")
	metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, h2.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "checkpoint"))},
	}, metricdatatest.IgnoreTimestamp())
}

func TestMissingStorageExtensionFailsStart(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	id := component.MustNewIDWithName("file_storage", "nowhere")
	cfg.Storage = &id
	proc, err := NewFactory().CreateLogs(context.Background(), metadatatest.NewSettings(componenttest.NewTelemetry()), cfg, new(consumertest.LogsSink))
	require.NoError(t, err)
	err = proc.Start(context.Background(), componenttest.NewNopHost())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `storage: invalid value "file_storage/nowhere"`)
	require.NoError(t, proc.Shutdown(context.Background()))
}

// TestShutdownLetsTheInFlightBatchFinish: a batch being processed when shutdown starts
// completes, and the state saved at shutdown includes it.
func TestShutdownLetsTheInFlightBatchFinish(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, p1 := rig.start(t, time.Hour)
	b := newBatch().failures(signinLogs, attackerIP, 6, at(0)).unrelated(100_000)
	consumed := make(chan error, 1)
	go func() { consumed <- h1.proc.ConsumeLogs(context.Background(), b.ld) }()
	// Shut down only once the batch holds the processor.
	for p1.mu.TryLock() {
		p1.mu.Unlock()
		select {
		case err := <-consumed:
			t.Fatalf("the batch finished (%v) before shutdown could start; make it bigger", err)
		default:
		}
	}
	stop1()
	require.NoError(t, <-consumed)
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Len(t, h2.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))), 1)
}

// TestDamagedStorageFileDoesNotStopDetection: a storage file that file_storage cannot open is
// reported and counted; the processor starts anyway, without checkpoints, and detects. (A bbolt file
// cut short after its meta pages faults inside a goroutine of file_storage's database library when
// it opens the file, out of the processor's reach: README, "What survives what".)
func TestDamagedStorageFileDoesNotStopDetection(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"garbage", func(b []byte) []byte { return bytes.Repeat([]byte("garbage!"), len(b)/8) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newStorageRig(t)
			h1, stop1, _, _ := rig.start(t, time.Hour)
			h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
			stop1()
			files, err := filepath.Glob(filepath.Join(rig.dir, "*"))
			require.NoError(t, err)
			require.NotEmpty(t, files)
			for _, f := range files {
				data, err := os.ReadFile(f)
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(f, tc.damage(data), 0o600))
			}
			h2, stop2, _, p2 := rig.start(t, time.Hour)
			defer stop2()
			assert.Nil(t, p2.checkpoints, "no checkpoints into an unusable file")
			got := h2.consume(newBatch().failures(signinLogs, "198.51.100.7", 6, at(0)).
				sshd("web01", "sshd", accepted("alice", "198.51.100.7"), 4, at(time.Minute)))
			assert.Len(t, got, 1, "detection goes on")
			metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, h2.tel, []metricdata.DataPoint[int64]{
				{Value: 1, Attributes: attribute.NewSet(attribute.String("reason", "checkpoint"))},
			}, metricdatatest.IgnoreTimestamp())
		})
	}
}

// files returns the storage file of the checkpoint (its meta and journal) and the one of its
// marker ("" if there is none); the bases' file is basesFile.
func (r *storageRig) files(t *testing.T) (state, marker string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.dir, "*"))
	require.NoError(t, err)
	for _, f := range files {
		switch {
		case strings.HasSuffix(f, "_"+checkpointBasesName):
		case strings.HasSuffix(f, "_"+checkpointMarkerName):
			marker = f
		default:
			require.Empty(t, state, "one checkpoint file")
			state = f
		}
	}
	require.NotEmpty(t, state)
	assert.NotEmpty(t, marker, "the marker has a file of its own")
	return state, marker
}

// basesFile returns the storage file of the checkpoint's bases.
func (r *storageRig) basesFile(t *testing.T) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(r.dir, "*_"+checkpointBasesName))
	require.NoError(t, err)
	require.Len(t, files, 1, "the bases have a file of their own")
	return files[0]
}

// TestDamagedBasesFile: the bases' file removed after a compaction wrote a base there leaves a
// meta naming pieces that are gone: damage, reported and counted, and the processor starts empty
// and checkpoints again. A bases' file that file_storage cannot open is reported and counted; the
// checkpoint (here all journal) is restored, and the bases are kept beside the journal.
func TestDamagedBasesFile(t *testing.T) {
	first := func() *batch { return newBatch().failures(signinLogs, attackerIP, 6, at(0)) }
	logon := func() *batch {
		return newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))
	}
	// compacted is a storage whose checkpoint holds first's failures in a base.
	compacted := func(t *testing.T) *storageRig {
		rig := newStorageRig(t)
		h1, stop1, _, p1 := rig.start(t, time.Hour)
		h1.consume(first())
		p1.flushCheckpoint(context.Background())
		require.NoError(t, p1.compactCheckpoint(context.Background()))
		stop1()
		return rig
	}
	const basesUnusable = "error: checkpoint bases' storage unusable; new bases are kept beside the journal, " +
		"and a checkpoint whose base is in it is not used: remove the damaged file from the storage directory"

	t.Run("removed after a compaction", func(t *testing.T) {
		rig := compacted(t)
		require.NoError(t, os.Remove(rig.basesFile(t)))

		h2, stop2, _, p2 := rig.start(t, time.Hour)
		assert.Equal(t, []string{"warn: checkpoint ignored; starting with empty state"}, rig.startLogs())
		assert.Contains(t, rig.logs.AllUntimed()[0].ContextMap()["error"], "base piece 0 of 1 missing")
		assertCheckpointErrors(t, h2, 1)
		require.NotNil(t, p2.checkpoints, "checkpoints go on")
		assert.Empty(t, h2.consume(logon()), "the failures were lost with the base")
		h2.consume(first())
		stop2()
		h3, stop3, _, _ := rig.start(t, time.Hour)
		defer stop3()
		assert.Len(t, h3.consume(logon()), 1, "checkpoints went on")
	})

	t.Run("unreadable", func(t *testing.T) {
		rig := newStorageRig(t)
		h1, stop1, _, _ := rig.start(t, time.Hour)
		h1.consume(first())
		stop1()
		require.NoError(t, os.WriteFile(rig.basesFile(t), bytes.Repeat([]byte("garbage!"), 4096), 0o600))

		h2, stop2, _, p2 := rig.start(t, time.Hour)
		assert.Equal(t, []string{
			basesUnusable,
			"info: state restored from checkpoint",
		}, rig.startLogs())
		assertCheckpointErrors(t, h2, 1)
		require.Nil(t, p2.checkpoints.bases)
		require.NoError(t, p2.compactCheckpoint(context.Background()))
		assert.Len(t, h2.consume(logon()), 1, "the failures were restored")
		stop2()
		bases := 0
		for k := range rig.keys(t) {
			if strings.HasPrefix(k, "b/") {
				bases++
			}
		}
		assert.Equal(t, 1, bases, "the base beside the journal")
	})

	t.Run("not available, with the base in it", func(t *testing.T) {
		rig := compacted(t)

		good := rig.ext
		rig.ext = &noBasesStorage{Extension: good.(storage.Extension)}
		h2, stop2, _, p2 := rig.start(t, time.Hour)
		assert.Equal(t, []string{
			basesUnusable,
			"error: checkpoint storage unusable; starting with empty state and WITHOUT checkpoints",
		}, rig.startLogs())
		assertCheckpointErrors(t, h2, 2)
		assert.Nil(t, p2.checkpoints.store, "no checkpoints over a checkpoint that is whole")
		assert.Len(t, h2.consume(newBatch().failures(signinLogs, "198.51.100.7", 6, at(0)).
			sshd("web01", "sshd", accepted("alice", "198.51.100.7"), 4, at(time.Minute))), 1, "detection goes on")
		stop2()

		rig.ext = good
		h3, stop3, _, _ := rig.start(t, time.Hour)
		defer stop3()
		assert.Equal(t, []string{"info: state restored from checkpoint"}, rig.startLogs())
		assert.Len(t, h3.consume(logon()), 1, "the checkpoint was left whole")
	})
}

// noBasesStorage is a storage extension that cannot open the bases' client (too many open files).
type noBasesStorage struct{ storage.Extension }

func (s *noBasesStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	if name == checkpointBasesName {
		return nil, errors.New("too many open files")
	}
	return s.Extension.GetClient(ctx, kind, id, name)
}

// assertCheckpointErrors asserts how many checkpoint errors h counted.
func assertCheckpointErrors(t *testing.T, h *harness, n int64) {
	t.Helper()
	if n == 0 {
		_, err := h.tel.GetMetric("otelcol_processor_aadhostlogincorrelation_state_errors")
		assert.Error(t, err, "no state error counted")
		return
	}
	metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: n, Attributes: attribute.NewSet(attribute.String("reason", "checkpoint"))},
	}, metricdatatest.IgnoreTimestamp())
}

// startLogs returns what the processor started last logged at start, as "level: message" lines.
func (r *storageRig) startLogs() []string {
	var out []string
	for _, e := range r.logs.AllUntimed() {
		out = append(out, e.Level.String()+": "+e.Message)
	}
	return out
}

// TestEmptyCheckpointIsDamage: a checkpoint value of 0 bytes (the storage returns it as an empty,
// non-nil value) is a damaged checkpoint, warned about and counted, not a first start.
func TestEmptyCheckpointIsDamage(t *testing.T) {
	rig := newStorageRig(t)
	rig.write(t, []byte{})
	data := rig.read(t, checkpointKey)
	require.NotNil(t, data, "file_storage returns an empty value, not nil")
	require.Empty(t, data)

	h, stop, _, p := rig.start(t, time.Hour)
	defer stop()
	assert.Equal(t, []string{"warn: checkpoint ignored; starting with empty state"}, rig.startLogs())
	assert.Contains(t, rig.logs.AllUntimed()[0].ContextMap()["error"], "empty checkpoint")
	assertCheckpointErrors(t, h, 1)
	assert.NotNil(t, p.checkpoints, "checkpoints go on")
}

// TestLostStorageFileIsReported: file_storage's database library (bbolt) takes a storage file of 0
// bytes for a new one and initialises it, so through the storage API a truncated file looks like a
// first start. The processor keeps, in a second storage file, a marker that a checkpoint was written:
// a checkpoint missing while the marker is there is reported and counted as lost. Only when both
// files are gone or cut to 0 bytes does it look like a first start.
func TestLostStorageFileIsReported(t *testing.T) {
	const (
		lost  = "warn: checkpoint lost; starting with empty state"
		fresh = "info: no checkpoint yet; starting with empty state"
	)
	cut := func(t *testing.T, f string) { require.NoError(t, os.Truncate(f, 0)) }
	remove := func(t *testing.T, f string) { require.NoError(t, os.Remove(f)) }
	for _, tc := range []struct {
		name          string
		state, marker func(*testing.T, string) // what happens to each file; nil: nothing
		want          string
		errors        int64
		restored      bool
	}{
		{"state file cut to 0 bytes", cut, nil, lost, 1, false},
		{"state file removed", remove, nil, lost, 1, false},
		{"marker file removed", nil, remove, "info: state restored from checkpoint", 0, true},
		{"both files cut to 0 bytes: a first start, as far as anyone can tell", cut, cut, fresh, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newStorageRig(t)
			h0, stop0, _, _ := rig.start(t, time.Hour)
			assert.Equal(t, []string{fresh}, rig.startLogs(), "the first start")
			assertCheckpointErrors(t, h0, 0)
			h0.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
			stop0()

			stateFile, markerFile := rig.files(t)
			if tc.state != nil {
				tc.state(t, stateFile)
			}
			if tc.marker != nil && markerFile != "" {
				tc.marker(t, markerFile)
			}

			h1, stop1, _, p1 := rig.start(t, time.Hour)
			assert.Equal(t, []string{tc.want}, rig.startLogs())
			assertCheckpointErrors(t, h1, tc.errors)
			require.NotNil(t, p1.checkpoints, "checkpoints go on")
			logon := func() *batch {
				return newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))
			}
			got := h1.consume(logon())
			if tc.restored {
				assert.Len(t, got, 1, "the restored failures alert")
			} else {
				assert.Empty(t, got, "nothing was restored")
			}
			h1.consume(newBatch().failures(signinLogs, "198.51.100.7", 6, at(0)))
			stop1()

			// The next start finds the new checkpoint and a marker again: no more warnings.
			h2, stop2, _, _ := rig.start(t, time.Hour)
			defer stop2()
			assert.Equal(t, []string{"info: state restored from checkpoint"}, rig.startLogs())
			assertCheckpointErrors(t, h2, 0)
			assert.Len(t, h2.consume(newBatch().sshd("web02", "sshd", accepted("bob", "198.51.100.7"), 4, at(time.Minute))), 1)
		})
	}
}

// TestDamagedMarkerFileIsReported: a marker file that file_storage cannot open is reported and
// counted; the checkpoint is restored and checkpoints go on (only a later loss of the checkpoint's
// own file would now look like a first start, until the operator removes the damaged file).
func TestDamagedMarkerFileIsReported(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, _ := rig.start(t, time.Hour)
	h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	stop1()
	_, marker := rig.files(t)
	data, err := os.ReadFile(marker)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(marker, bytes.Repeat([]byte("garbage!"), len(data)/8), 0o600))

	h2, stop2, _, p2 := rig.start(t, time.Hour)
	defer stop2()
	assert.Equal(t, []string{
		"warn: checkpoint marker unusable; a lost checkpoint will look like a first start: remove the damaged file from the storage directory",
		"info: state restored from checkpoint",
	}, rig.startLogs())
	assertCheckpointErrors(t, h2, 1)
	assert.NotNil(t, p2.checkpoints, "checkpoints go on")
	assert.Len(t, h2.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))), 1)
}

// gatedStorage is a storage extension whose clients' writes wait while the gate is shut: a disk
// that stalls.
type gatedStorage struct {
	storage.Extension
	shut  atomic.Bool
	reads atomic.Bool // reads of the checkpoint wait too
	fail  atomic.Bool // writes fail

	open    chan struct{} // closed to let the writes through
	waiting chan struct{} // receives when a write starts to wait
}

func (g *gatedStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := g.Extension.GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	return &gatedClient{Client: c, g: g}, nil
}

type gatedClient struct {
	storage.Client
	g *gatedStorage
}

func (c *gatedClient) wait() {
	if c.g.shut.Load() {
		select {
		case c.g.waiting <- struct{}{}:
		default:
		}
		<-c.g.open
	}
}

func (c *gatedClient) Get(ctx context.Context, key string) ([]byte, error) {
	if c.g.reads.Load() && key != checkpointKey && key != checkpointMarkerKey {
		c.wait()
	}
	return c.Client.Get(ctx, key)
}

func (c *gatedClient) Set(ctx context.Context, key string, value []byte) error {
	if c.g.fail.Load() {
		return errors.New("disk full")
	}
	c.wait()
	return c.Client.Set(ctx, key, value)
}

func (c *gatedClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if c.g.fail.Load() {
		return errors.New("disk full")
	}
	c.wait()
	return c.Client.Batch(ctx, ops...)
}

// TestBatchesDoNotWaitForCheckpoints: while a checkpoint write and a compaction are stuck in the
// storage, batches that alert nothing go through; once the storage is back, everything they
// observed is written, and a restart finds it.
func TestBatchesDoNotWaitForCheckpoints(t *testing.T) {
	rig := newStorageRig(t)
	gate := &gatedStorage{Extension: rig.ext.(storage.Extension), open: make(chan struct{}), waiting: make(chan struct{}, 1)}
	rig.ext = gate
	h1, stop1, _, p1 := rig.start(t, time.Hour)
	require.Empty(t, h1.consume(newBatch().failures(signinLogs, attackerIP, 3, at(0))))

	gate.shut.Store(true)
	flushed := make(chan struct{})
	go func() { p1.flushCheckpoint(context.Background()); close(flushed) }()
	<-gate.waiting // the flush is stuck in the storage
	compacted := make(chan error, 1)
	go func() { compacted <- p1.compactCheckpoint(context.Background()) }()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			h1.consume(newBatch().failures(signinLogs, attackerIP, 1, at(time.Duration(i)*time.Second)).unrelated(100))
		}
		h1.consume(newBatch().sshd("web02", "sshd", accepted("bob", "198.51.100.20"), 4, at(time.Minute)))
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("batches waited for the stuck checkpoint write")
	}
	select {
	case <-flushed:
		t.Fatal("the flush was not stuck: the test proves nothing")
	default:
	}

	close(gate.open)
	<-flushed
	require.NoError(t, <-compacted)
	stop1()

	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Len(t, h2.consume(newBatch().
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(30*time.Second)).
		failures(signinLogs, "198.51.100.20", 6, at(90*time.Second))), 2, "every batch was written once the storage was back")
}

// serialStorage is a storage extension whose clients take one operation at a time each, as
// file_storage's do, and whose writes of a base piece stall, holding their client, while stall is
// set: a compaction's write that holds the storage for long.
type serialStorage struct {
	storage.Extension
	stall   atomic.Bool
	release chan struct{} // closed to let the stalled write through
	stalled chan struct{} // receives when a write of a base piece stalls
}

func (s *serialStorage) GetClient(ctx context.Context, kind component.Kind, id component.ID, name string) (storage.Client, error) {
	c, err := s.Extension.GetClient(ctx, kind, id, name)
	if err != nil {
		return nil, err
	}
	return &checkpointtest.SerialClient{Client: c, Stall: func(key string) {
		if strings.HasPrefix(key, "b/") && s.stall.CompareAndSwap(true, false) {
			s.stalled <- struct{}{}
			<-s.release
		}
	}}, nil
}

// TestAlertDoesNotWaitForABaseWrite: a batch that carries an alert writes the journal before it
// returns; while a compaction's write of the next base holds its storage, that batch goes through,
// because the bases have a storage client (with file_storage, a file) of their own. After it, the
// storage's main client holds the meta and the journal, the bases' client the base, and a restart
// finds every observation.
func TestAlertDoesNotWaitForABaseWrite(t *testing.T) {
	rig := newStorageRig(t)
	serial := &serialStorage{Extension: rig.ext.(storage.Extension), release: make(chan struct{}), stalled: make(chan struct{})}
	rig.ext = serial
	h1, stop1, _, p1 := rig.start(t, time.Hour)
	require.Empty(t, h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0))))
	p1.flushCheckpoint(context.Background())

	serial.stall.Store(true)
	compacted := make(chan error, 1)
	go func() { compacted <- p1.compactCheckpoint(context.Background()) }()
	<-serial.stalled // the compaction holds the bases' client, writing a piece
	alerted := make(chan int, 1)
	go func() {
		alerted <- len(h1.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))))
	}()
	select {
	case n := <-alerted:
		assert.Equal(t, 1, n)
	case <-time.After(30 * time.Second):
		t.Fatal("the batch that carries an alert waited for the compaction's write of a base")
	}
	close(serial.release)
	require.NoError(t, <-compacted)
	stop1()

	rig.ext = serial.Extension
	journal, bases := rig.clientKeys(t, ""), rig.clientKeys(t, checkpointBasesName)
	assert.Contains(t, journal, "meta")
	for k := range journal {
		assert.False(t, strings.HasPrefix(k, "b/"), "a base piece %s beside the journal", k)
	}
	assert.NotEmpty(t, bases)
	for k := range bases {
		assert.True(t, strings.HasPrefix(k, "b/"), "%s in the bases' client", k)
	}
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().failures(signinLogs, attackerIP, 1, at(2*time.Minute))),
		"the alert's mark was restored: no second alert")
	assert.Len(t, h2.consume(newBatch().sshd("web02", "sshd", accepted("bob", attackerIP), 4, at(3*time.Minute))), 1,
		"the failures were restored")
}

// TestRecordsPassThroughWhileRestoring: while the checkpoint is still being read, batches pass
// through unchanged and uncorrelated, counted; once it is restored, the state correlates.
func TestRecordsPassThroughWhileRestoring(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, _ := rig.start(t, time.Hour)
	h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	stop1()

	gate := &gatedStorage{Extension: rig.ext.(storage.Extension), open: make(chan struct{}), waiting: make(chan struct{}, 1)}
	gate.shut.Store(true)
	gate.reads.Store(true)
	rig.ext, rig.noWait = gate, true
	h2, stop2, _, p2 := rig.start(t, time.Hour)
	defer stop2()
	<-gate.waiting // the restore is stuck reading the checkpoint
	b := newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).unrelated(3)
	assert.Empty(t, h2.consume(b), "nothing correlates while restoring")
	assert.Equal(t, 4, h2.sink.AllLogs()[len(h2.sink.AllLogs())-1].LogRecordCount(), "every record passed through")
	metadatatest.AssertEqualProcessorAadhostlogincorrelationUncorrelated(t, h2.tel, []metricdata.DataPoint[int64]{{Value: 4}},
		metricdatatest.IgnoreTimestamp())

	close(gate.open)
	<-p2.checkpoints.restored
	assert.Len(t, h2.consume(newBatch().sshd("web02", "sshd", accepted("bob", attackerIP), 4, at(2*time.Minute))), 1,
		"the restored failures correlate")
}

// TestFailingStorageKeepsTheJournalThenRewritesTheState: while writes fail, the journal is kept in
// memory and written with the next flush that succeeds; past its bound it is dropped, and the next
// write that succeeds is the whole state. Either way a restart finds every observation.
func TestFailingStorageKeepsTheJournalThenRewritesTheState(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bound int
	}{{"journal kept", maxUnwrittenBytes}, {"journal dropped, state rewritten", 1}} {
		t.Run(tc.name, func(t *testing.T) {
			rig := newStorageRig(t)
			gate := &gatedStorage{Extension: rig.ext.(storage.Extension), open: make(chan struct{}), waiting: make(chan struct{}, 1)}
			rig.ext = gate
			h1, stop1, _, p1 := rig.start(t, time.Hour)
			p1.checkpoints.maxUnwritten = tc.bound
			h1.consume(newBatch().failures(signinLogs, attackerIP, 3, at(0)))
			p1.flushCheckpoint(context.Background())
			gate.fail.Store(true)
			h1.consume(newBatch().failures(signinLogs, attackerIP, 3, at(time.Second)))
			p1.flushCheckpoint(context.Background())
			assert.Equal(t, tc.bound == 1, p1.checkpoints.rebaseNext)
			h1.consume(newBatch().sshd("web02", "sshd", accepted("bob", "198.51.100.20"), 4, at(time.Minute)))
			gate.fail.Store(false)
			stop1()

			h2, stop2, _, _ := rig.start(t, time.Hour)
			defer stop2()
			assert.Len(t, h2.consume(newBatch().
				sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(30*time.Second)).
				failures(signinLogs, "198.51.100.20", 6, at(90*time.Second))), 2, "every observation was restored")
		})
	}
}
