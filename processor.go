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
	"go.uber.org/zap"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
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
	mu        sync.Mutex
	backend   state.Backend
	event     classify.Observation
	at        recordAt                    // the record collect is at
	observeFn func(*classify.Observation) // p.observe, bound once
	events    []state.Event
	payloads  payloads // of the batch's successes, which p.events point to
	alerts    []state.Alert
	counts    batchCounts
	plan      rules.Plan // the rules that run, mapped onto the engine's counters
	// sources are the alerts' failure source of each (rule, counter of the rule): the plan's
	// counter names, joined once rather than per alert.
	sources [][]string
	// route says, per kind, what collect does with an observation of it (see kindRoute); indexed
	// by any byte, so that the lookup needs no bounds check.
	route     [256]kindRoute
	maxRepeat int // the most failures one record can stand for that still change a decision
	// keptResources are the last resources copied for waiting logons; they are never modified.
	keptResources []pcommon.Resource
	nextKept      int
	checkpoints   *checkpointer // nil without storage
	restoring     bool          // the checkpoint is being restored: batches pass through uncorrelated

	engine   window.Config   // the rule's settings, for the backend start builds (state redis)
	warnings backendWarnings // state backend failures, logged at most once per backendWarnEvery
}

func newCorrelationProcessor(set processor.Settings, cfg *Config) (*correlationProcessor, error) {
	prefixes, err := parsePrefixes(cfg.ExcludedIPs)
	if err != nil {
		return nil, err
	}
	plan := rules.Compile(cfg.running())
	var ruleNames []string
	for _, r := range plan.Rules {
		ruleNames = append(ruleNames, r.Short)
	}
	tel, err := newTelemetry(set.TelemetrySettings, ruleNames)
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
			Kinds:               plan.Kinds(),
		}),
		telemetry:     tel,
		now:           time.Now,
		plan:          plan,
		keptResources: make([]pcommon.Resource, 0, 8),
	}
	p.observeFn = p.observe
	for _, r := range plan.Rules {
		p.maxRepeat = max(p.maxRepeat, r.Threshold+1)
	}
	for k := range p.route {
		p.route[k] = routeOf(&plan, classify.Kind(k))
	}
	for _, r := range plan.Engine.Rules {
		names := make([]string, len(r.Counters))
		for j, c := range r.Counters {
			names[j] = plan.CounterName(c)
		}
		p.sources = append(p.sources, names)
	}
	p.engine = plan.Engine
	p.engine.MaxTrackedIPs, p.engine.MaxPendingLogons = cfg.MaxTrackedIPs, cfg.MaxPendingLogons
	if err := p.engine.Check(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
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
	out, alerted, err := p.correlate(ctx, ld)
	if alerted && p.checkpoints != nil {
		// What the alerts mark (their logons' done bits, suppress marks) is durable before they
		// leave: a crash after this cannot make them again.
		p.flushCheckpoint(p.checkpoints.ctx)
	}
	return out, err
}

// correlate is processLogs under the batch lock; alerted says whether alerts were made.
func (p *correlationProcessor) correlate(ctx context.Context, ld plog.Logs) (plog.Logs, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.restoring {
		p.telemetry.uncorrelated(ctx, ld.LogRecordCount())
		if p.cfg.Emit == EmitAlerts {
			return plog.NewLogs(), false, processorhelper.ErrSkipProcessingData
		}
		return ld, false, nil
	}
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
		p.payloads.reset()
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
	for i := range p.alerts {
		p.counts.alerts[p.alerts[i].Rule]++
	}
	p.telemetry.record(ctx, &p.counts, before, p.backend.Counters())

	out := ld
	if p.cfg.Emit == EmitAlerts {
		out = plog.NewLogs()
	}
	for i := range p.alerts {
		a := &p.alerts[i]
		alert.Append(out, scopeName, p.plan.Rules[a.Rule].Rule, &a.Payload, alert.Firing{
			Source: p.sources[a.Rule][a.Table], Count: a.Count, First: a.First, Last: a.Last,
		}, now)
	}
	clear(p.events) // drop references to this batch's logons
	p.payloads.reset()
	if p.cfg.Emit == EmitAlerts && len(p.alerts) == 0 {
		return out, false, processorhelper.ErrSkipProcessingData
	}
	return out, len(p.alerts) > 0, nil
}

// collect classifies every record of ld into p.events and p.counts.
func (p *correlationProcessor) collect(ld plog.Logs, now int64) {
	p.events = p.events[:0]
	p.counts = batchCounts{alerts: p.counts.alerts[:0]}
	for range p.plan.Rules {
		p.counts.alerts = append(p.counts.alerts, 0)
	}
	ev := &p.event
	at := &p.at
	at.now = now
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		at.rl = rls.At(i)
		at.resource = pcommon.Resource{} // what successes of this ResourceLogs keep of their resource
		sls := at.rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				lr := lrs.At(k)
				p.classifier.Classify(lr, ev)
				switch r := p.route[ev.Kind]; {
				case r == routeCount: // most records: nothing to observe
					p.counts.kinds[ev.Kind]++
					continue
				case r >= 0 && ev.Repeat <= 1: // one failure of one counter: what observe does, without the calls
					p.counts.kinds[ev.Kind]++
					e := p.nextEvent()
					e.Table, e.Addr, e.Time = int(r), ev.Addr, eventTime(lr, ev, now)
					continue
				case ev.Kind == classify.Wrapper:
					p.counts.kinds[classify.Wrapper]++
					at.lr = lr
					p.classifier.Unwrap(lr, ev, p.observeFn)
					continue
				}
				at.lr = lr
				p.observe(ev)
			}
		}
	}
	*at = recordAt{}
}

// recordAt is where collect is in the batch: the record being classified, its ResourceLogs and
// what its successes keep of that resource.
type recordAt struct {
	lr       plog.LogRecord
	rl       plog.ResourceLogs
	resource pcommon.Resource
	now      int64
}

// kindRoute is what collect does with an observation of a kind: a counter (0 or more) that it is a
// failure of and nothing else, routeCount (only counted: no running rule uses it), or routeObserve
// (observe decides: several counters, a success, a rejection, a wrapper).
type kindRoute int16

const (
	routeCount   kindRoute = -1
	routeObserve kindRoute = -2
)

// routeOf is the route of kind k under plan.
func routeOf(plan *rules.Plan, k classify.Kind) kindRoute {
	switch {
	case int(k) >= classify.NumKinds(): // no such kind: never classified
		return routeCount
	case k == classify.Wrapper || k == classify.Rejected || plan.Takes(k):
		return routeObserve
	case len(plan.FailureCounters[k]) == 1:
		return kindRoute(plan.FailureCounters[k][0])
	case len(plan.FailureCounters[k]) == 0:
		return routeCount
	}
	return routeObserve
}

// observe takes one observation of the record at p.at: a record's own, or one of a wrapper's. What
// a kind is to the running rules (a failure of some counters, a success of some rules, or both) is
// the plan's to say.
func (p *correlationProcessor) observe(ev *classify.Observation) {
	p.counts.kinds[ev.Kind]++
	if ev.Kind == classify.Rejected {
		p.counts.rejectedBy(ev.Reject)
		return
	}
	at := &p.at
	counters, successes := p.plan.FailureCounters[ev.Kind], p.plan.SuccessRules[ev.Kind]
	if len(counters) == 0 && len(successes) == 0 {
		return
	}
	t := eventTime(at.lr, ev, at.now)
	if len(counters) > 0 {
		p.failures(counters, ev.Repeat, ev, t)
	}
	if len(successes) == 0 {
		return
	}
	if at.resource == (pcommon.Resource{}) {
		at.resource = p.keepResource(at.rl.Resource())
	}
	payload := p.payloads.next() // one for all the rules that take it
	payload.Set(ev, t, at.resource)
	for _, r := range successes {
		e := p.nextEvent()
		e.Logon, e.Rule, e.Addr, e.Time, e.Payload = true, r, ev.Addr, t, payload
	}
}

// failures adds n failures from ev at time t to each of counters. More than the largest threshold
// plus one at one time changes no decision, so a record claiming more (rsyslog's "message repeated
// N times") adds that many.
func (p *correlationProcessor) failures(counters []int, n int, ev *classify.Observation, t int64) {
	n = min(max(n, 1), p.maxRepeat)
	for _, c := range counters {
		for range n {
			e := p.nextEvent()
			e.Table, e.Addr, e.Time = c, ev.Addr, t
		}
	}
}

// nextEvent appends a zero event to p.events and returns it, built in place rather than copied in.
func (p *correlationProcessor) nextEvent() *state.Event {
	if len(p.events) == cap(p.events) {
		p.events = slices.Grow(p.events, 1)
	}
	p.events = p.events[:len(p.events)+1]
	e := &p.events[len(p.events)-1]
	*e = state.Event{}
	return e
}

// payloads holds the payloads of a batch's successes, out of its events: a failure, most of a
// batch's events, carries none. It hands out pointers that stay valid for the batch: blocks of
// payloads, kept from batch to batch.
type payloads struct {
	blocks [][]alert.Logon
	n      int // handed out this batch
}

// payloadBlock is how many payloads a block holds (some 370 bytes each).
const payloadBlock = 64

// next returns the batch's next payload, to be filled in place.
func (s *payloads) next() *alert.Logon {
	b, i := s.n/payloadBlock, s.n%payloadBlock
	if b == len(s.blocks) {
		s.blocks = append(s.blocks, make([]alert.Logon, payloadBlock))
	}
	s.n++
	return &s.blocks[b][i]
}

// reset forgets the batch's payloads, and what they referenced of its records.
func (s *payloads) reset() {
	for b := 0; b*payloadBlock < s.n; b++ {
		clear(s.blocks[b][:min(payloadBlock, s.n-b*payloadBlock)])
	}
	s.n = 0
}

// eventTime is the LogRecord Timestamp, else the record's schema time, else its
// ObservedTimestamp, else (a record with no time at all) now. A record inside a wrapper has its own
// schema time first: the Timestamp is the message's.
func eventTime(lr plog.LogRecord, ev *classify.Observation, now int64) int64 {
	if ev.InWrapper && ev.Time != 0 {
		return ev.Time
	}
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
