package aadhostlogincorrelation

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadata"
	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
)

// storageRig is a real file_storage extension over a directory that outlives the processors
// started on it, as a file_storage directory outlives a collector process.
type storageRig struct {
	id  component.ID
	ext extension.Extension
	dir string
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
	cfg := createDefaultConfig().(*Config)
	cfg.Storage = &r.id
	cfg.CheckpointInterval = interval
	h = &harness{t: t, sink: new(consumertest.LogsSink), tel: componenttest.NewTelemetry()}
	set := metadatatest.NewSettings(h.tel)
	p, err := newCorrelationProcessor(set, cfg)
	require.NoError(t, err)
	proc, err := processorhelper.NewLogs(context.Background(), set, cfg, h.sink, p.processLogs,
		processorhelper.WithCapabilities(processorCapabilities), processorhelper.WithStart(p.start), processorhelper.WithShutdown(p.shutdown))
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), r.host()))
	h.proc = proc
	stop = func() { require.NoError(t, proc.Shutdown(context.Background())) }
	crash = func() {
		c := p.checkpoints
		close(c.stop)
		c.done.Wait()
		require.NoError(t, c.client.Close(context.Background()))
	}
	return h, stop, crash, p
}

// read returns the checkpoint the rig holds, nil if none.
func (r *storageRig) read(t *testing.T) []byte {
	t.Helper()
	client, err := r.ext.(storage.Extension).GetClient(context.Background(), component.KindProcessor, component.NewID(metadata.Type), "")
	require.NoError(t, err)
	defer func() { require.NoError(t, client.Close(context.Background())) }()
	data, err := client.Get(context.Background(), checkpointKey)
	require.NoError(t, err)
	return data
}

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
	first, second := restartScenario()
	h1, _, crash, p1 := rig.start(t, 10*time.Millisecond)
	got := summarize(h1.consume(first))
	// A crash between checkpoints loses only what came after the last one: wait for one.
	saved := p1.checkpoints.saved.Load()
	require.Eventually(t, func() bool { return p1.checkpoints.saved.Load() > saved }, 10*time.Second, 5*time.Millisecond)
	crash()
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	got = append(got, summarize(h2.consume(second))...)
	assert.Equal(t, []summary{
		{attackerIP, "web01", signinLogs, "Syslog"},
		{"198.51.100.20", "web02", signinLogs, "Syslog"},
		{"198.51.100.30", "web03", nonInter, "Syslog"},
	}, got)
}

func TestCrashBeforeAnyCheckpointStartsEmpty(t *testing.T) {
	rig := newStorageRig(t)
	first, second := restartScenario()
	h1, _, crash, _ := rig.start(t, time.Hour)
	h1.consume(first)
	crash()
	require.Empty(t, rig.read(t))
	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(second), "nothing was checkpointed, so nothing waits")
}

func TestCorruptCheckpointIsReportedAndIgnored(t *testing.T) {
	rig := newStorageRig(t)
	h1, stop1, _, _ := rig.start(t, time.Hour)
	h1.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	stop1()
	data := rig.read(t)
	require.NotEmpty(t, data)
	data[len(data)/2] ^= 0xff
	rig.write(t, data)

	h2, stop2, _, _ := rig.start(t, time.Hour)
	defer stop2()
	assert.Empty(t, h2.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))),
		"the corrupt state is not used")
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
