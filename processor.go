package aadhostlogincorrelation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"
	"go.opentelemetry.io/collector/processor/processorhelper"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.uber.org/zap"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/metadata"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// scopeName is the instrumentation scope of alert records.
const scopeName = "github.com/secops-otel/aadhostlogincorrelation"

// correlationProcessor walks each batch, classifies every record, hands the sign-ins and logons
// to the state backend and appends the alerts it returns.
type correlationProcessor struct {
	cfg        *Config
	id         component.ID
	logger     *zap.Logger
	classifier *classify.Classifier
	telemetry  *telemetry
	now        func() time.Time

	// mu serialises batches: the backend and the buffers below belong to one batch at a time.
	mu      sync.Mutex
	backend state.Backend
	event   classify.Event
	events  []state.Event
	alerts  []state.Alert
	counts  batchCounts
	tables  [2]string // SigninTable attribute per table index of the backend
	// keptResources are the last resources copied for waiting logons; they are never modified.
	keptResources []pcommon.Resource
	nextKept      int
	checkpoints   *checkpointer // nil without storage

	engine   window.Config   // the rule's settings, for the backend start builds (state redis)
	warnings backendWarnings // state backend failures, logged at most once per backendWarnEvery
}

func newCorrelationProcessor(set processor.Settings, cfg *Config) (*correlationProcessor, error) {
	prefixes, err := parsePrefixes(cfg.ExcludedIPs)
	if err != nil {
		return nil, err
	}
	tel, err := newTelemetry(set.TelemetrySettings)
	if err != nil {
		return nil, err
	}
	p := &correlationProcessor{
		cfg:    cfg,
		id:     set.ID,
		logger: set.Logger,
		classifier: classify.New(classify.Rules{
			ExcludedResultTypes: cfg.ExcludedResultTypes,
			ExcludedIPs:         prefixes,
			LogonTypes:          cfg.LogonTypes,
		}),
		telemetry:     tel,
		now:           time.Now,
		tables:        [2]string{classify.SigninLogs.String(), classify.AADNonInteractiveUserSignInLogs.String()},
		keptResources: make([]pcommon.Resource, 0, 8),
	}
	tables := 2
	if cfg.CountTables == CountTogether {
		tables = 1
		p.tables[0] = classify.SigninLogs.String() + "+" + classify.AADNonInteractiveUserSignInLogs.String()
	}
	p.engine = window.Config{
		Threshold:        cfg.SigninThreshold,
		Window:           int64(cfg.Window),
		Tables:           tables,
		MaxTrackedIPs:    cfg.MaxTrackedIPs,
		MaxPendingLogons: cfg.MaxPendingLogons,
		Suppress:         int64(cfg.Suppress),
	}
	if cfg.State != StateRedis {
		p.backend = state.NewMemory(p.engine)
	} // state redis: start connects, so that validate needs no server
	if err := tel.observeSizes(p.sizes); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *correlationProcessor) sizes() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.backend == nil {
		return 0, 0
	}
	return p.backend.Sizes()
}

func (p *correlationProcessor) start(ctx context.Context, host component.Host) error {
	if err := p.startRedis(ctx); err != nil {
		return err
	}
	return p.startCheckpoints(ctx, host, p.id)
}

// startRedis builds the shared state of state "redis". A server that does not answer yet does not
// stop the collector: batches pass through uncorrelated until it does.
func (p *correlationProcessor) startRedis(ctx context.Context) error {
	if p.cfg.State != StateRedis {
		return nil
	}
	rc := &p.cfg.Redis
	tlsConfig, err := rc.TLS.LoadTLSConfig(ctx)
	if err != nil {
		return fmt.Errorf("redis.tls: %w", err)
	}
	backend := state.NewRedis(state.RedisOptions{
		Addr: rc.Endpoint, Username: rc.Username, Password: string(rc.Password), DB: rc.DB,
		TLS: tlsConfig, KeyPrefix: rc.KeyPrefix, Timeout: rc.Timeout,
	}, p.engine)
	if err := backend.Ping(ctx); err != nil {
		p.logger.Warn("redis does not answer yet; records pass through uncorrelated until it does",
			zap.String("endpoint", rc.Endpoint), zap.Error(err))
	}
	p.mu.Lock()
	p.backend = backend
	p.mu.Unlock()
	return nil
}

// shutdown runs after the pipeline stopped sending batches: the final state is saved, then the
// backend is closed.
func (p *correlationProcessor) shutdown(ctx context.Context) error {
	err := p.stopCheckpoints(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.telemetry.shutdown()
	if p.backend == nil {
		return err
	}
	return errors.Join(err, p.backend.Close(ctx))
}

// processLogs is the pipeline's entry: pass-through records are never changed or dropped
// (unless emit is "alerts"), alerts are appended in their own ResourceLogs.
func (p *correlationProcessor) processLogs(ctx context.Context, ld plog.Logs) (plog.Logs, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.collect(ld, now.UnixNano())

	before := p.backend.Counters()
	requests := p.backendRequests()
	var err error
	p.alerts, err = p.backend.Apply(ctx, now.UnixNano(), int64(p.cfg.MaxClockSkew), p.events, p.alerts[:0])
	if err != nil {
		p.counts.stateErrors++
		p.warnings.failed(p.logger, now, err)
		clear(p.events)
		p.events = p.events[:0] // not judged: no verdict to count
	} else if requests < 0 || p.backendRequests() != requests {
		p.warnings.succeeded(p.logger) // the backend answered this batch
	}
	for i := range p.events {
		switch ev := &p.events[i]; ev.Verdict {
		case window.Current:
			if !ev.Logon {
				p.counts.failuresCounted++
			}
		case window.Late:
			p.counts.late++
		case window.Future:
			p.counts.rejectedBy(rejectFuture)
		}
	}
	p.telemetry.record(ctx, &p.counts, before, p.backend.Counters(), len(p.alerts))

	out := ld
	if p.cfg.Emit == EmitAlerts {
		out = plog.NewLogs()
	}
	for i := range p.alerts {
		a := &p.alerts[i]
		alert.Append(out, scopeName, &a.Payload, alert.Firing{
			Table: p.tables[a.Table], Count: a.Count, First: a.First, Last: a.Last,
		}, now)
	}
	clear(p.events) // drop references to this batch's logons
	if p.cfg.Emit == EmitAlerts && len(p.alerts) == 0 {
		return out, processorhelper.ErrSkipProcessingData
	}
	return out, nil
}

// requestCounter is a backend that sends each batch to a server and counts its requests (Redis): a
// batch it had nothing to send for (no sign-in or logon, or only events from the future) succeeds
// without a request, and so says nothing about whether the server is back.
type requestCounter interface {
	RoundTrips() (requests, scriptSent int64)
}

var _ requestCounter = (*state.Redis)(nil)

// backendRequests returns how many requests the backend has sent, or -1 for a backend that answers
// every batch itself (memory).
func (p *correlationProcessor) backendRequests() int64 {
	rc, ok := p.backend.(requestCounter)
	if !ok {
		return -1
	}
	n, _ := rc.RoundTrips()
	return n
}

// collect classifies every record of ld into p.events and p.counts.
func (p *correlationProcessor) collect(ld plog.Logs, now int64) {
	p.events = p.events[:0]
	p.counts = batchCounts{}
	ev := &p.event
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var resource pcommon.Resource // what logons of this ResourceLogs keep of their resource
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				p.classifier.Classify(lr, ev)
				p.counts.kinds[ev.Kind]++
				switch ev.Kind {
				case classify.FailedSignIn:
					e := p.nextEvent()
					e.Table, e.Addr, e.Time = int(ev.Table), ev.Addr, eventTime(lr, ev, now)
				case classify.LinuxLogon, classify.WindowsLogon:
					if resource == (pcommon.Resource{}) {
						resource = p.keepResource(rl.Resource())
					}
					e := p.nextEvent()
					e.Logon, e.Addr, e.Time = true, ev.Addr, eventTime(lr, ev, now)
					e.Payload.Set(ev, e.Time, resource)
				case classify.Rejected:
					p.counts.rejectedBy(ev.Reject)
				}
			}
		}
	}
}

// nextEvent appends a zero event to p.events and returns it, built in place rather than copied in:
// an event with its logon is some 500 bytes.
func (p *correlationProcessor) nextEvent() *state.Event {
	if len(p.events) == cap(p.events) {
		p.events = slices.Grow(p.events, 1)
	}
	p.events = p.events[:len(p.events)+1]
	e := &p.events[len(p.events)-1]
	*e = state.Event{}
	return e
}

// keepResource returns a copy of res that logons can keep, reusing a recent copy when it is
// the same: a stream comes from a handful of sources, so resources repeat.
func (p *correlationProcessor) keepResource(res pcommon.Resource) pcommon.Resource {
	for _, kept := range p.keptResources {
		if kept.DroppedAttributesCount() == res.DroppedAttributesCount() && kept.Attributes().Equal(res.Attributes()) {
			return kept
		}
	}
	kept := pcommon.NewResource()
	res.CopyTo(kept)
	if len(p.keptResources) < cap(p.keptResources) {
		p.keptResources = append(p.keptResources, kept)
	} else {
		p.keptResources[p.nextKept] = kept
		p.nextKept = (p.nextKept + 1) % len(p.keptResources)
	}
	return kept
}

// eventTime is the LogRecord Timestamp, else the record's schema time, else its
// ObservedTimestamp, else (a record with no time at all) now.
func eventTime(lr plog.LogRecord, ev *classify.Event, now int64) int64 {
	if t := int64(lr.Timestamp()); t != 0 {
		return t
	}
	if ev.Time != 0 {
		return ev.Time
	}
	if t := int64(lr.ObservedTimestamp()); t != 0 {
		return t
	}
	return now
}

// Reasons for rejections: the classifier's, and the one the clock decides.
const rejectFuture = "future_time"

var rejectReasonNames = [...]string{
	rejectFuture, classify.RejectMissingAddress, classify.RejectBadAddress, classify.RejectMissingResultType,
	classify.RejectBadResultType, classify.RejectBadLogonType, "bad_value",
}

const numRejectReasons = len(rejectReasonNames)

// batchCounts are one batch's counts, reported to telemetry in one go.
type batchCounts struct {
	kinds           [classify.Rejected + 1]int64
	rejected        [numRejectReasons]int64
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
	c.rejected[numRejectReasons-1]++
}

// telemetry reports through the mdatagen TelemetryBuilder, with attribute sets built once, as
// option slices (passing a stored slice costs no allocation per batch).
type telemetry struct {
	tb         *metadata.TelemetryBuilder
	kinds      [classify.Rejected + 1][]metric.AddOption
	rejected   [numRejectReasons][]metric.AddOption
	evictIP    []metric.AddOption
	evictLog   []metric.AddOption
	evictSup   []metric.AddOption
	backend    []metric.AddOption
	checkpoint []metric.AddOption
}

func (t *telemetry) checkpointError(ctx context.Context) {
	t.tb.ProcessorAadhostlogincorrelationStateErrors.Add(ctx, 1, t.checkpoint...)
}

func newTelemetry(set component.TelemetrySettings) (*telemetry, error) {
	tb, err := metadata.NewTelemetryBuilder(set)
	if err != nil {
		return nil, err
	}
	t := &telemetry{tb: tb}
	kindNames := [...]string{
		classify.Unrelated: "unrelated", classify.FailedSignIn: "failed_signin", classify.SignIn: "signin",
		classify.LinuxLogon: "linux_logon", classify.WindowsLogon: "windows_logon", classify.Rejected: "rejected",
	}
	for k, name := range kindNames {
		t.kinds[k] = withAttr("kind", name)
	}
	for r, name := range rejectReasonNames {
		t.rejected[r] = withAttr("reason", name)
	}
	t.evictIP = withAttr("reason", "max_tracked_ips")
	t.evictLog = withAttr("reason", "max_pending_logons")
	t.evictSup = withAttr("reason", "suppress_marks")
	t.backend = withAttr("reason", "backend")
	t.checkpoint = withAttr("reason", "checkpoint")
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

func (t *telemetry) record(ctx context.Context, c *batchCounts, before, after state.Counters, alerts int) {
	tb := t.tb
	for k, n := range c.kinds {
		if n > 0 {
			tb.ProcessorAadhostlogincorrelationRecords.Add(ctx, n, t.kinds[k]...)
		}
	}
	for r, n := range c.rejected {
		if n > 0 {
			tb.ProcessorAadhostlogincorrelationRejected.Add(ctx, n, t.rejected[r]...)
		}
	}
	addIf(ctx, tb.ProcessorAadhostlogincorrelationFailedSignins, c.failuresCounted, nil)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationLate, c.late, nil)
	addIf(ctx, tb.ProcessorAadhostlogincorrelationAlerts, int64(alerts), nil)
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

// backendWarnEvery is the least time between two warnings about a failing state backend (Redis
// down: every batch fails).
const backendWarnEvery = 10 * time.Second

// backendWarnings logs state backend failures at most once per backendWarnEvery, with how many it
// held back, and says when the backend works again: when it answers a batch, not merely when a
// batch that needed no answer (nothing to send) succeeds.
type backendWarnings struct {
	last    time.Time // when the last warning was logged
	held    int       // failures since then that were not logged
	failing int       // batches failed in a row
}

func (w *backendWarnings) failed(logger *zap.Logger, now time.Time, err error) {
	w.failing++
	if !w.last.IsZero() && now.Sub(w.last) < backendWarnEvery {
		w.held++
		return
	}
	logger.Warn("state backend failed; records pass through uncorrelated", zap.Error(err),
		zap.Int("suppressed_warnings", w.held))
	w.last, w.held = now, 0
}

func (w *backendWarnings) succeeded(logger *zap.Logger) {
	if w.failing > 0 {
		logger.Info("state backend works again; correlation resumes", zap.Int("failed_batches", w.failing))
		w.failing = 0
	}
}
