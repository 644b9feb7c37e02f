package aadhostlogincorrelation

import (
	"context"
	"fmt"
	"slices"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/metadata"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
)

// Reasons for rejections: the classifier's, and the one the clock decides.
const rejectFuture = "future_time"

// rejectReasonNames are the reasons of rejections: the one the clock decides, every reason the
// classifier declares, and "bad_value" for any other.
var rejectReasonNames = slices.Concat([]string{rejectFuture}, classify.RejectReasons(), []string{"bad_value"})

// maxRejectReasons bounds the reasons: arrays of per-reason counts have this many entries.
const maxRejectReasons = 32

// Reasons of evictions and state errors.
const (
	reasonMaxTrackedIPs    = "max_tracked_ips"
	reasonMaxPendingLogons = "max_pending_logons"
	reasonSuppressMarks    = "suppress_marks"
	reasonBackend          = "backend"
	reasonCheckpoint       = "checkpoint"
)

// reasonValues is every value of the reason attribute the processor emits.
func reasonValues() []string {
	return append(rejectReasonNames[:len(rejectReasonNames):len(rejectReasonNames)],
		reasonMaxTrackedIPs, reasonMaxPendingLogons, reasonSuppressMarks, reasonBackend, reasonCheckpoint)
}

// batchCounts are one batch's counts, reported to telemetry in one go.
type batchCounts struct {
	alerts          []int64 // per running rule
	kinds           [classify.MaxKinds]int64
	rejected        [maxRejectReasons]int64
	late            int64
	failuresCounted int64
	stateErrors     int64
}

func (c *batchCounts) rejectedBy(reason string) {
	for i, name := range rejectReasonNames {
		if name == reason {
			c.rejected[i]++
			return
		}
	}
	c.rejected[len(rejectReasonNames)-1]++
}

// telemetry reports through the mdatagen TelemetryBuilder, with attribute sets built once, as
// option slices (passing a stored slice costs no allocation per batch).
type telemetry struct {
	tb         *metadata.TelemetryBuilder
	kinds      [classify.MaxKinds][]metric.AddOption
	rejected   [maxRejectReasons][]metric.AddOption
	evictIP    []metric.AddOption
	evictLog   []metric.AddOption
	evictSup   []metric.AddOption
	backend    []metric.AddOption
	checkpoint []metric.AddOption
	rules      [][]metric.AddOption // the rule attribute of each running rule's alerts
}

func (t *telemetry) checkpointError(ctx context.Context) {
	t.tb.ProcessorAadhostlogincorrelationStateErrors.Add(ctx, 1, t.checkpoint...)
}

// checkpointBytes counts n bytes written to the checkpoint storage.
func (t *telemetry) checkpointBytes(ctx context.Context, n int64) {
	if n > 0 {
		t.tb.ProcessorAadhostlogincorrelationCheckpointBytes.Add(ctx, n)
	}
}

// uncorrelated counts n records passed through while the state was being restored.
func (t *telemetry) uncorrelated(ctx context.Context, n int) {
	if n > 0 {
		t.tb.ProcessorAadhostlogincorrelationUncorrelated.Add(ctx, int64(n))
	}
}

func newTelemetry(set component.TelemetrySettings, ruleNames []string) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	if len(rejectReasonNames) > maxRejectReasons {
		return nil, fmt.Errorf("%d reasons of rejections, at most %d", len(rejectReasonNames), maxRejectReasons)
	}
	t := &telemetry{tb: tb}
	for k := range classify.NumKinds() {
		t.kinds[k] = withAttr("kind", classify.Kind(k).String())
	}
	for _, name := range ruleNames {
		t.rules = append(t.rules, withAttr("rule", name))
	}
	for r, name := range rejectReasonNames {
		t.rejected[r] = withAttr("reason", name)
	}
	t.evictIP = withAttr("reason", reasonMaxTrackedIPs)
	t.evictLog = withAttr("reason", reasonMaxPendingLogons)
	t.evictSup = withAttr("reason", reasonSuppressMarks)
	t.backend = withAttr("reason", reasonBackend)
	t.checkpoint = withAttr("reason", reasonCheckpoint)
	return t, nil
}

func (t *telemetry) observeSizes(sizes func() (int, int)) error {
	if err := t.tb.RegisterProcessorAadhostlogincorrelationTrackedIpsCallback(func(_ context.Context, o metric.Int64Observer) error {
		ips, _ := sizes()
		o.Observe(int64(ips))
		return nil
	}); err != nil {
		return err
	}
	return t.tb.RegisterProcessorAadhostlogincorrelationPendingLogonsCallback(func(_ context.Context, o metric.Int64Observer) error {
		_, logons := sizes()
		o.Observe(int64(logons))
		return nil
	})
}

func (t *telemetry) record(ctx context.Context, c *batchCounts, before, after state.Counters) {
	tb := t.tb
	for k, n := range c.kinds[:classify.NumKinds()] {
		if n > 0 {
			tb.ProcessorAadhostlogincorrelationRecords.Add(ctx, n, t.kinds[k]...)
		}
	}
	for r, n := range c.rejected[:len(rejectReasonNames)] {
		if n > 0 {
			tb.ProcessorAadhostlogincorrelationRejected.Add(ctx, n, t.rejected[r]...)
		}
	}
	addIf(ctx, tb.ProcessorAadhostlogincorrelationFailedSignins, c.failuresCounted, nil)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationLate, c.late, nil)
	for r, n := range c.alerts {
		addIf(ctx, tb.ProcessorAadhostlogincorrelationAlerts, n, t.rules[r])
	}
	addIf(ctx, tb.ProcessorAadhostlogincorrelationAlertsSuppressed, after.Suppressed-before.Suppressed, nil)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationEvictions, after.EvictedIPs-before.EvictedIPs, t.evictIP)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationEvictions, after.EvictedLogons-before.EvictedLogons, t.evictLog)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationEvictions, after.EvictedSuppress-before.EvictedSuppress, t.evictSup)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationStateErrors, c.stateErrors+after.Errors-before.Errors, t.backend)
}

func addIf(ctx context.Context, c metric.Int64Counter, n int64, opts []metric.AddOption) {
	if n > 0 {
		c.Add(ctx, n, opts...)
	}
}

func (t *telemetry) shutdown() { t.tb.Shutdown() }

func withAttr(key, value string) []metric.AddOption {
	return []metric.AddOption{metric.WithAttributeSet(attribute.NewSet(attribute.String(key, value)))}
}
