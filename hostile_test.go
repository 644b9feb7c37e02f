package aadhostlogincorrelation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// TestHostileInputPassesAndIsCounted feeds each malformed record, alone and after a real
// event so the clock is live: it must pass through byte for byte, be counted once, and be
// counted as a rejection with the expected reason when it is one.
func TestHostileInputPassesAndIsCounted(t *testing.T) {
	for _, tc := range shapes.HostileRecords(attackerIP, at(0)) {
		t.Run(tc.Name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.consume(newBatch().failures(signinLogs, "198.51.100.1", 1, at(0)))
			b := newBatch()
			tc.Fill(b.record(map[string]string{"host.name": "h"}))
			var m plog.ProtoMarshaler
			want, err := m.MarshalLogs(b.ld)
			require.NoError(t, err)

			require.NotPanics(t, func() { require.NoError(t, h.proc.ConsumeLogs(context.Background(), b.ld)) })
			out := h.sink.AllLogs()[len(h.sink.AllLogs())-1]
			passed := plog.NewLogs()
			out.ResourceLogs().At(0).CopyTo(passed.ResourceLogs().AppendEmpty())
			got, err := m.MarshalLogs(passed)
			require.NoError(t, err)
			assert.Equal(t, want, got, "passed through unchanged")
			assert.Empty(t, alertsIn(out))

			assert.Equal(t, int64(2), metricTotal(t, h, "records"), "counted once")
			rejected := metricByAttr(t, h, "rejected", "reason")
			if tc.Reason == "" {
				assert.Empty(t, rejected)
			} else {
				assert.Equal(t, map[string]int64{tc.Reason: 1}, rejected)
			}
		})
	}
}

// TestHostileBatch runs all of them in one batch with a real attack around them: the attack
// still alerts (some odd records are real logons from the attacker and alert too) and every
// record passes.
func TestHostileBatch(t *testing.T) {
	h := newHarness(t, nil)
	b := newBatch().failures(signinLogs, attackerIP, 6, at(0))
	for _, tc := range shapes.HostileRecords(attackerIP, at(0)) {
		tc.Fill(b.record(nil))
	}
	b.sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))
	want := b.ld.LogRecordCount()
	alerts := summarize(h.consume(b))
	assert.Contains(t, alerts, summary{attackerIP, "web01", signinLogs, "Syslog"})
	assert.Equal(t, want+len(alerts), h.sink.AllLogs()[0].LogRecordCount())
}

func metricTotal(t *testing.T, h *harness, name string) int64 {
	var n int64
	for _, v := range metricByAttr(t, h, name, "kind") {
		n += v
	}
	return n
}

func metricByAttr(t *testing.T, h *harness, name, attr string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	m, err := h.tel.GetMetric("otelcol_processor_aadhostlogincorrelation_" + name)
	if err != nil {
		return out
	}
	for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
		v, _ := dp.Attributes.Value(attributeKey(attr))
		out[v.AsString()] += dp.Value
	}
	return out
}

func attributeKey(k string) attribute.Key { return attribute.Key(k) }

// TestFutureStampsCannotExpireState: records stamped far ahead cannot move the clock past the
// allowed skew, so they cannot age everyone's state out; records older than the window are late.
func TestFutureStampsCannotExpireState(t *testing.T) {
	h := newHarness(t, nil)
	h.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)))
	far := newBatch().
		failures(signinLogs, "198.51.100.8", 1, time.Now().Add(48*time.Hour)).  // rejected: beyond the skew
		failures(signinLogs, "198.51.100.9", 1, time.Now().Add(4*time.Minute)). // believed: within the skew
		sshd("web09", "sshd", accepted("mallory", "198.51.100.10"), 4, time.Now().Add(72*time.Hour))
	assert.Empty(t, h.consume(far))
	got := h.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)))
	assert.Equal(t, []summary{{attackerIP, "web01", signinLogs, "Syslog"}}, summarize(got), "state survived the future stamps")
	assert.Equal(t, map[string]int64{"future_time": 2}, metricByAttr(t, h, "rejected", "reason"))

	// A record more than a window older than the clock is late: it passes and is counted.
	h.consume(newBatch().failures(signinLogs, "198.51.100.11", 6, time.Now().Add(-25*time.Hour)).
		sshd("web02", "sshd", accepted("bob", "198.51.100.11"), 4, time.Now().Add(-25*time.Hour)))
	m, err := h.tel.GetMetric("otelcol_processor_aadhostlogincorrelation_late")
	require.NoError(t, err)
	assert.Equal(t, int64(7), m.Data.(metricdata.Sum[int64]).DataPoints[0].Value)
}
