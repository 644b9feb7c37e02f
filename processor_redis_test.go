//go:build redis

package aadhostlogincorrelation

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
)

var redisPrefixes atomic.Int64

// awaitRedisRedial waits, when the test ends, for go-redis' background redial of an unreachable
// server to notice the closed client (it checks once a second), so the package's leak check passes.
func awaitRedisRedial(t *testing.T) {
	t.Cleanup(func() {
		deadline := time.Now().Add(3 * time.Second)
		for time.Now().Before(deadline) {
			buf := make([]byte, 1<<20)
			if !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*ConnPool).tryDial") {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// useRedis sets state redis on srv, under a key prefix of the test's own.
func useRedis(srv *redistest.Server) func(*Config) {
	prefix := fmt.Sprintf("proc%d:", redisPrefixes.Add(1))
	return func(c *Config) {
		c.State = StateRedis
		c.Redis.Endpoint = srv.Addr()
		c.Redis.KeyPrefix = prefix
		c.Redis.Timeout = 2 * time.Second
	}
}

// TestRedisReverseRuleCases runs rule B's cases (rules_test.go) through a processor whose state
// is in Redis.
func TestRedisReverseRuleCases(t *testing.T) {
	srv := redistest.Start(t)
	for _, tc := range reverseRuleCases() {
		t.Run(tc.name, func(t *testing.T) {
			redis := useRedis(srv)
			h := newHarness(t, func(c *Config) { withRules(tc.rules...)(c); redis(c) })
			assert.Equal(t, tc.want, summarizeRules(h.consume(tc.batch)))
		})
	}
}

// TestRedisStateRuleCases runs the rule's main cases through a processor whose state is in Redis.
func TestRedisStateRuleCases(t *testing.T) {
	srv := redistest.Start(t)
	web := "web01.contoso.com"
	for _, tc := range []struct {
		name    string
		batches []*batch
		want    []summary
	}{
		{"six failures then an sshd logon alerts",
			[]*batch{newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute))},
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
		{"five failures are not more than the threshold",
			[]*batch{newBatch().failures(signinLogs, attackerIP, 5, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute))},
			[]summary{}},
		{"a logon alerts for both tables, across batches",
			[]*batch{
				newBatch().sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
				newBatch().failures(signinLogs, attackerIP, 6, at(0)),
				newBatch().failures(nonInter, attackerIP, 6, at(0)),
			},
			[]summary{{attackerIP, web, signinLogs, "Syslog"}, {attackerIP, web, nonInter, "Syslog"}}},
		{"Windows logon waiting in Redis alerts with its attributes",
			[]*batch{
				newBatch().securityEvent("dc01.contoso.com", "::ffff:"+attackerIP, 3, at(time.Minute)),
				newBatch().failures(signinLogs, attackerIP, 6, at(0)),
			},
			[]summary{{attackerIP, "dc01.contoso.com", signinLogs, "SecurityEvent"}}},
		{"failures more than a window before the logon do not alert",
			[]*batch{newBatch().failures(signinLogs, attackerIP, 6, at(-25*time.Hour)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(0))},
			[]summary{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, useRedis(srv))
			got := []summary{}
			for _, b := range tc.batches {
				got = append(got, summarize(h.consume(b))...)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestRedisWaitingLogonKeepsItsRecord: a logon that waited in Redis alerts with the same record as
// one decided in memory (its payload, resource included, went through Redis and back).
func TestRedisWaitingLogonKeepsItsRecord(t *testing.T) {
	srv := redistest.Start(t)
	batches := func() []*batch {
		return []*batch{
			newBatch().sshd("web01.contoso.com", "sshd", accepted("alice", attackerIP), 10, at(time.Minute)),
			newBatch().failures(signinLogs, attackerIP, 6, at(0)),
		}
	}
	records := func(h *harness) []map[string]any {
		var out []map[string]any
		for _, b := range batches() {
			for _, a := range h.consume(b) {
				m := a.Attributes().AsRaw()
				m["body"] = a.Body().AsString()
				m["time"] = a.Timestamp().String()
				out = append(out, m)
			}
		}
		return out
	}
	mem := records(newHarness(t, nil))
	red := records(newHarness(t, useRedis(srv)))
	require.Len(t, mem, 1)
	assert.Equal(t, mem, red)
}

// TestTwoProcessorsShareOneAttack: two processors (two collectors) on one Redis, each given every
// other batch of an attack, emit its alerts exactly once between them.
func TestTwoProcessorsShareOneAttack(t *testing.T) {
	srv := redistest.Start(t)
	shared := useRedis(srv)
	fleet := []*harness{newHarness(t, shared), newHarness(t, shared)}
	var got []summary
	steps := []*batch{
		newBatch().failures(signinLogs, attackerIP, 2, at(0)),
		newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
		newBatch().failures(signinLogs, attackerIP, 2, at(10*time.Second)),
		newBatch().failures(nonInter, attackerIP, 6, at(0)),
		newBatch().failures(signinLogs, attackerIP, 2, at(20*time.Second)),
		newBatch().sshd("web02", "sshd", accepted("bob", attackerIP), 4, at(2*time.Minute)),
		newBatch().failures(signinLogs, attackerIP, 3, at(30*time.Second)),
	}
	for i, b := range steps {
		got = append(got, summarize(fleet[i%2].consume(b))...)
	}
	assert.ElementsMatch(t, []summary{
		{attackerIP, "web01", nonInter, "Syslog"}, {attackerIP, "web01", signinLogs, "Syslog"},
		{attackerIP, "web02", nonInter, "Syslog"}, {attackerIP, "web02", signinLogs, "Syslog"},
	}, got)
}

// redisTimeoutSlack is what a loaded test machine (race detector, parallel builds) may add to the timeout.
const redisTimeoutSlack = 500 * time.Millisecond

// TestRedisDown: with Redis stopped every batch passes through unchanged within the timeout,
// each failure is counted, warnings are rate-limited, and correlation resumes when Redis is back.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	cfg, tel, logs, clock, consume := startObservedRedis(t, srv)
	out, _ := consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)))
	require.Len(t, alertsIn(out), 1)

	srv.Stop()
	const down = 25
	for i := 0; i < down; i++ {
		b := newBatch().unrelated(2).failures(signinLogs, attackerIP, 1, at(time.Duration(i)*time.Second)).
			sshd("web02", "sshd", accepted("bob", attackerIP), 4, at(2*time.Minute))
		want := plog.NewLogs()
		b.ld.CopyTo(want)
		out, took := consume(b)
		assert.Less(t, took, cfg.Redis.Timeout+redisTimeoutSlack, "batch %d waited for Redis", i)
		assert.Equal(t, want, out, "batch %d must pass unchanged", i)
		*clock = clock.Add(time.Second)
	}
	warnings := logs.FilterMessage("state backend failed; records pass through uncorrelated").AllUntimed()
	require.Len(t, warnings, 3, "one warning per 10 s over 25 s of failures")
	assert.Equal(t, int64(0), warnings[0].ContextMap()["suppressed_warnings"])
	assert.Equal(t, int64(9), warnings[1].ContextMap()["suppressed_warnings"])
	metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: down, Attributes: attribute.NewSet(attribute.String("reason", "backend"))},
	}, metricdatatest.IgnoreTimestamp())

	srv.Restart() // empty: the state before the outage is gone, the script must be sent again
	require.Eventually(t, func() bool {
		out, _ := consume(newBatch().failures(signinLogs, "198.51.100.9", 6, at(0)).sshd("web03", "sshd", accepted("carol", "198.51.100.9"), 4, at(time.Minute)))
		return len(alertsIn(out)) == 1
	}, 10*time.Second, 100*time.Millisecond, "correlation resumes when Redis is back")
	assert.Len(t, logs.FilterMessage("state backend works again; correlation resumes").AllUntimed(), 1)
}

// startObservedRedis starts a processor on srv with a 300 ms timeout, its log and telemetry observed and
// its clock set by the test; consume runs a batch through it and says how long it took.
func startObservedRedis(t *testing.T, srv *redistest.Server) (cfg *Config, tel *componenttest.Telemetry,
	logs *observer.ObservedLogs, clock *time.Time, consume func(*batch) (plog.Logs, time.Duration),
) {
	awaitRedisRedial(t)
	cfg = createDefaultConfig().(*Config)
	useRedis(srv)(cfg)
	cfg.Redis.Timeout = 300 * time.Millisecond
	require.NoError(t, cfg.Validate())
	tel = componenttest.NewTelemetry()
	t.Cleanup(func() { require.NoError(t, tel.Shutdown(context.Background())) })
	core, logs := observer.New(zap.InfoLevel)
	set := metadatatest.NewSettings(tel)
	set.Logger = zap.New(core)
	p, err := newCorrelationProcessor(set, cfg)
	require.NoError(t, err)
	clock = new(time.Time)
	*clock = time.Now()
	p.now = func() time.Time { return *clock }
	ctx := context.Background()
	require.NoError(t, p.start(ctx, componenttest.NewNopHost()))
	t.Cleanup(func() { require.NoError(t, p.shutdown(ctx)) })
	consume = func(b *batch) (plog.Logs, time.Duration) {
		t.Helper()
		start := time.Now()
		out, err := p.processLogs(ctx, b.ld)
		require.NoError(t, err, "a backend failure never fails the pipeline")
		return out, time.Since(start)
	}
	return cfg, tel, logs, clock, consume
}

// TestRedisRecoveryOnlyWhenRedisAnswers: while Redis is down, a batch that sends it nothing (no
// sign-in or logon, or only events from the future) proves nothing and reports no recovery; the
// first batch Redis answers once it is back reports it, once, with every failed batch counted.
func TestRedisRecoveryOnlyWhenRedisAnswers(t *testing.T) {
	srv := redistest.Start(t)
	_, tel, logs, clock, consume := startObservedRedis(t, srv)
	attack := func(ip string) *batch {
		return newBatch().failures(signinLogs, ip, 6, at(0)).sshd("web01", "sshd", accepted("alice", ip), 4, at(time.Minute))
	}
	out, _ := consume(attack(attackerIP))
	require.Len(t, alertsIn(out), 1)
	recovered := func() []observer.LoggedEntry {
		return logs.FilterMessage("state backend works again; correlation resumes").AllUntimed()
	}

	srv.Stop()
	const down = 20
	for i := 0; i < down; i++ {
		consume(newBatch().unrelated(1).failures(signinLogs, attackerIP, 1, at(time.Duration(i)*time.Second))) // fails
		consume(newBatch().unrelated(3))                                                                       // nothing to send
		consume(newBatch().unrelated(1).failures(signinLogs, attackerIP, 1, clock.Add(48*time.Hour)))          // only the future
		*clock = clock.Add(time.Second)
	}
	assert.Zero(t, len(recovered()), "no batch reached Redis while it was down")
	assert.Len(t, logs.FilterMessage("state backend failed; records pass through uncorrelated").AllUntimed(), 2,
		"one warning per 10 s over 20 s of failures")
	metadatatest.AssertEqualProcessorAadhostlogincorrelationStateErrors(t, tel, []metricdata.DataPoint[int64]{
		{Value: down, Attributes: attribute.NewSet(attribute.String("reason", "backend"))},
	}, metricdatatest.IgnoreTimestamp())

	srv.Restart()
	consume(newBatch().unrelated(3))
	assert.Zero(t, len(recovered()), "a batch with nothing to send proves nothing")
	require.Eventually(t, func() bool {
		out, _ := consume(attack("198.51.100.9"))
		return len(alertsIn(out)) == 1
	}, 10*time.Second, 100*time.Millisecond, "correlation resumes when Redis is back")
	consume(newBatch().unrelated(3))
	consume(attack("198.51.100.10"))
	lines := recovered()
	require.Len(t, lines, 1)
	assert.GreaterOrEqual(t, lines[0].ContextMap()["failed_batches"], int64(down), "batches with nothing to send do not end the outage")
}

// TestRedisDownAtStart: a collector starts while Redis is unreachable (and validate never needs it).
func TestRedisDownAtStart(t *testing.T) {
	awaitRedisRedial(t)
	cfg := createDefaultConfig().(*Config)
	cfg.State, cfg.Redis.Endpoint, cfg.Redis.Timeout = StateRedis, "127.0.0.1:1", 100*time.Millisecond
	require.NoError(t, cfg.Validate())
	core, logs := observer.New(zap.InfoLevel)
	set := metadatatest.NewSettings(componenttest.NewTelemetry())
	set.Logger = zap.New(core)
	p, err := newCorrelationProcessor(set, cfg)
	require.NoError(t, err)
	ips, logons := p.sizes()
	assert.Zero(t, ips+logons, "no backend before start")
	require.NoError(t, p.start(context.Background(), componenttest.NewNopHost()))
	assert.Len(t, logs.FilterMessage("redis does not answer yet; records pass through uncorrelated until it does").AllUntimed(), 1)
	b := newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))
	out, err := p.processLogs(context.Background(), b.ld)
	require.NoError(t, err)
	assert.Equal(t, 7, out.LogRecordCount())
	require.NoError(t, p.shutdown(context.Background()))
}

// TestRedisOverTLS: the redis.tls block (the collector's configtls) reaches Redis: with the server's
// CA the processor correlates; without it (system roots only) every batch fails and passes through.
func TestRedisOverTLS(t *testing.T) {
	awaitRedisRedial(t)
	srv, caFile := redistest.StartTLS(t)
	attack := func() *batch {
		return newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))
	}
	h := newHarness(t, func(c *Config) {
		useRedis(srv)(c)
		c.Redis.TLS = configtls.ClientConfig{Config: configtls.Config{CAFile: caFile}}
	})
	assert.Len(t, h.consume(attack()), 1)

	untrusted := newHarness(t, func(c *Config) {
		useRedis(srv)(c)
		c.Redis.TLS = configtls.ClientConfig{Insecure: false}
		c.Redis.Timeout = 300 * time.Millisecond
	})
	b := attack()
	assert.Empty(t, untrusted.consume(b))
	assert.Equal(t, 7, untrusted.sink.AllLogs()[0].LogRecordCount(), "records pass through")
}
