package aadhostlogincorrelation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor"

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// base is the event time the fixtures start at: an hour before the tests' wall clock.
var base = time.Now().Add(-time.Hour).Truncate(time.Second)

func at(d time.Duration) time.Time { return base.Add(d) }

// batch builds a plog.Logs; each record builder adds one record to its own scope.
type batch struct{ ld plog.Logs }

func newBatch() *batch { return &batch{ld: plog.NewLogs()} }

func (b *batch) record(resource map[string]string) plog.LogRecord {
	rl := b.ld.ResourceLogs().AppendEmpty()
	for k, v := range resource {
		rl.Resource().Attributes().PutStr(k, v)
	}
	return rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
}

// add adds one record of the shapes package's builders, with event time t as its Timestamp (and
// ObservedTimestamp), as receivers stamp them.
func (b *batch) add(resource map[string]string, fill func(plog.LogRecord), t time.Time) *batch {
	lr := b.record(resource)
	fill(lr)
	lr.SetTimestamp(pcommon.NewTimestampFromTime(t))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(t))
	return b
}

// signin adds a Sentinel-schema sign-in (as a replay or a script would send it).
func (b *batch) signin(table, ip, resultType string, t time.Time) *batch {
	return b.add(map[string]string{"cloud.provider": "azure"},
		shapes.SignIn{Table: table, Addr: ip, Result: resultType, User: "adele@contoso.com", Time: t}.Fill, t)
}

// failures adds n failed SigninLogs sign-ins from ip, one second apart from t.
func (b *batch) failures(table, ip string, n int, t time.Time) *batch {
	for i := 0; i < n; i++ {
		b.signin(table, ip, "50126", t.Add(time.Duration(i)*time.Second))
	}
	return b
}

// facilityNames are the syslog facilities the tests use, by number.
var facilityNames = map[int64]string{4: "auth", 10: "authpriv", 3: "daemon"}

// sshd adds an auth line as the syslog receiver emits it.
func (b *batch) sshd(host, process, message string, facility int64, t time.Time) *batch {
	return b.add(map[string]string{"host.name": host},
		shapes.Syslog{Shape: shapes.SyslogReceiver, Host: host, Process: process, Facility: facilityNames[facility], Message: message, Time: t}.Fill, t)
}

// securityEvent adds a Sentinel SecurityEvent 4624.
func (b *batch) securityEvent(computer, ip string, logonType int64, t time.Time) *batch {
	return b.add(map[string]string{"host.name": computer},
		shapes.Windows{Computer: computer, Addr: ip, LogonType: int(logonType), Numbers: true, Time: t}.Fill, t)
}

// unrelated adds an ordinary application log record.
func (b *batch) unrelated(n int) *batch {
	for i := 0; i < n; i++ {
		b.add(map[string]string{"service.name": "checkout"}, shapes.App{Service: "checkout"}.Fill, base)
	}
	return b
}

func accepted(user, ip string) string { return shapes.AcceptedPassword(user, ip) }

// harness is a processor built through its factory, feeding a sink, with telemetry captured.
type harness struct {
	t    *testing.T
	proc processor.Logs
	sink *consumertest.LogsSink
	tel  *componenttest.Telemetry
}

func newHarness(t *testing.T, mutate func(*Config)) *harness {
	t.Helper()
	cfg := createDefaultConfig().(*Config)
	if mutate != nil {
		mutate(cfg)
	}
	require.NoError(t, cfg.Validate())
	h := &harness{t: t, sink: new(consumertest.LogsSink), tel: componenttest.NewTelemetry()}
	set := metadatatest.NewSettings(h.tel)
	proc, err := NewFactory().CreateLogs(context.Background(), set, cfg, h.sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	t.Cleanup(func() {
		require.NoError(t, proc.Shutdown(context.Background()))
		require.NoError(t, h.tel.Shutdown(context.Background()))
	})
	h.proc = proc
	return h
}

// consume feeds one batch and returns the alert records that came out of it.
func (h *harness) consume(b *batch) []plog.LogRecord {
	h.t.Helper()
	before := len(h.sink.AllLogs())
	require.NoError(h.t, h.proc.ConsumeLogs(context.Background(), b.ld))
	var alerts []plog.LogRecord
	for _, ld := range h.sink.AllLogs()[before:] {
		alerts = append(alerts, alertsIn(ld)...)
	}
	return alerts
}

func alertsIn(ld plog.Logs) []plog.LogRecord {
	var out []plog.LogRecord
	for i := 0; i < ld.ResourceLogs().Len(); i++ {
		sls := ld.ResourceLogs().At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			if sls.At(j).Scope().Name() != scopeName {
				continue
			}
			for k := 0; k < sls.At(j).LogRecords().Len(); k++ {
				out = append(out, sls.At(j).LogRecords().At(k))
			}
		}
	}
	return out
}

// summary is what identifies an alert: IpAddress, Computer, SigninTable, LogonSource.
type summary struct{ IP, Computer, Table, Source string }

func summarize(alerts []plog.LogRecord) []summary {
	out := []summary{}
	for _, a := range alerts {
		get := func(k string) string { v, _ := a.Attributes().Get(k); return v.AsString() }
		out = append(out, summary{get("IpAddress"), get("Computer"), get("SigninTable"), get("LogonSource")})
	}
	return out
}
