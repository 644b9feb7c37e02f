package aadhostlogincorrelation

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// hostile describes one malformed record: how to build it, and the rejection reason it must be
// counted under ("" when it is simply not part of the rule).
type hostile struct {
	name   string
	build  func(lr plog.LogRecord)
	reason string
}

func signinWith(ip func(pcommon.Map), resultType func(pcommon.Map)) func(plog.LogRecord) {
	return func(lr plog.LogRecord) {
		a := lr.Attributes()
		a.PutStr("Type", signinLogs)
		a.PutStr("UserPrincipalName", "adele@contoso.com")
		if ip != nil {
			ip(a)
		}
		if resultType != nil {
			resultType(a)
		}
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at(0)))
	}
}

func ipStr(s string) func(pcommon.Map) { return func(a pcommon.Map) { a.PutStr("IPAddress", s) } }
func failed(a pcommon.Map)             { a.PutStr("ResultType", "50126") }
func rtStr(s string) func(pcommon.Map) { return func(a pcommon.Map) { a.PutStr("ResultType", s) } }
func goodIP(a pcommon.Map)             { a.PutStr("IPAddress", attackerIP) }
func sshdWith(f func(pcommon.Map)) func(plog.LogRecord) {
	return func(lr plog.LogRecord) {
		a := lr.Attributes()
		a.PutStr("appname", "sshd")
		a.PutStr("hostname", "web01")
		a.PutInt("facility", 4)
		a.PutStr("message", accepted("alice", attackerIP))
		f(a)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at(0)))
	}
}

func windowsWith(f func(pcommon.Map)) func(plog.LogRecord) {
	return func(lr plog.LogRecord) {
		a := lr.Attributes()
		a.PutStr("Type", "SecurityEvent")
		a.PutInt("EventID", 4624)
		a.PutInt("LogonType", 3)
		a.PutStr("IpAddress", attackerIP)
		a.PutStr("Computer", "dc01")
		f(a)
		lr.SetTimestamp(pcommon.NewTimestampFromTime(at(0)))
	}
}

func hostileRecords() []hostile {
	mib := strings.Repeat("A", 1<<20)
	invalidUTF8 := "Accepted password for \xff\xfe from 203.0.113.7 port 22 ssh2"
	return []hostile{
		// Wrong value types in every field.
		{"IPAddress as int", signinWith(func(a pcommon.Map) { a.PutInt("IPAddress", 3405803783) }, failed), "bad_address"},
		{"IPAddress as map", signinWith(func(a pcommon.Map) { a.PutEmptyMap("IPAddress").PutStr("ip", attackerIP) }, failed), "bad_address"},
		{"IPAddress as bytes", signinWith(func(a pcommon.Map) { a.PutEmptyBytes("IPAddress").FromRaw([]byte{203, 0, 113, 7}) }, failed), "bad_address"},
		{"IPAddress as slice", signinWith(func(a pcommon.Map) { a.PutEmptySlice("IPAddress").AppendEmpty().SetStr(attackerIP) }, failed), "bad_address"},
		{"ResultType as map", signinWith(goodIP, func(a pcommon.Map) { a.PutEmptyMap("ResultType") }), "bad_result_type"},
		{"ResultType as bool", signinWith(goodIP, func(a pcommon.Map) { a.PutBool("ResultType", true) }), "bad_result_type"},
		{"Type as int", func(lr plog.LogRecord) { lr.Attributes().PutInt("Type", 7) }, ""},
		{"EventID as map", windowsWith(func(a pcommon.Map) { a.PutEmptyMap("EventID") }), ""},
		{"LogonType as map", windowsWith(func(a pcommon.Map) { a.PutEmptyMap("LogonType") }), "bad_logon_type"},
		{"Computer as slice", windowsWith(func(a pcommon.Map) { a.PutEmptySlice("Computer") }), ""},
		{"appname as int", sshdWith(func(a pcommon.Map) { a.PutInt("appname", 22) }), ""},
		{"facility as map", sshdWith(func(a pcommon.Map) { a.PutEmptyMap("facility") }), ""},
		{"message as bytes", sshdWith(func(a pcommon.Map) { a.PutEmptyBytes("message").FromRaw([]byte("Accepted")) }), ""},
		// Missing fields.
		{"sign-in without an address", signinWith(nil, failed), "missing_address"},
		{"sign-in without a ResultType", signinWith(goodIP, nil), "missing_result_type"},
		{"4624 without an address", windowsWith(func(a pcommon.Map) { a.Remove("IpAddress") }), ""},
		{"sshd without a message", sshdWith(func(a pcommon.Map) { a.Remove("message") }), ""},
		// Empty and huge strings, invalid UTF-8.
		{"empty address", signinWith(ipStr(""), failed), "bad_address"},
		{"1 MiB address", signinWith(ipStr(mib), failed), "bad_address"},
		{"1 MiB ResultType", signinWith(goodIP, rtStr(mib)), ""},
		{"1 MiB sshd message", sshdWith(func(a pcommon.Map) { a.PutStr("message", mib+accepted("x", attackerIP)) }), ""},
		{"1 MiB body", func(lr plog.LogRecord) { lr.Body().SetStr(mib) }, ""},
		{"invalid UTF-8 message", sshdWith(func(a pcommon.Map) { a.PutStr("message", invalidUTF8) }), ""},
		{"invalid UTF-8 address", signinWith(ipStr("203.0.113.\xff"), failed), "bad_address"},
		// Addresses with zones, brackets, ports, leading zeros, garbage.
		{"address with a zone", signinWith(ipStr("fe80::1%eth0"), failed), ""},
		{"address in brackets with a port", signinWith(ipStr("[2001:db8::1]:443"), failed), ""},
		{"address with a port", signinWith(ipStr("203.0.113.7:8080"), failed), ""},
		{"leading zeros", signinWith(ipStr("010.001.113.007"), failed), "bad_address"},
		{"octet out of range", signinWith(ipStr("999.1.1.1"), failed), "bad_address"},
		{"garbage address", signinWith(ipStr("not-an-ip"), failed), "bad_address"},
		{"windows garbage address", windowsWith(func(a pcommon.Map) { a.PutStr("IpAddress", "::ffff:zz") }), "bad_address"},
		// Negative and overflowing numbers.
		{"negative ResultType", signinWith(goodIP, func(a pcommon.Map) { a.PutInt("ResultType", -50126) }), ""},
		{"overflowing ResultType", signinWith(goodIP, func(a pcommon.Map) { a.PutDouble("ResultType", 1e300) }), ""},
		{"NaN ResultType", signinWith(goodIP, func(a pcommon.Map) { a.PutDouble("ResultType", math.NaN()) }), ""},
		{"negative EventID", windowsWith(func(a pcommon.Map) { a.PutInt("EventID", -4624) }), ""},
		{"overflowing LogonType", windowsWith(func(a pcommon.Map) { a.PutDouble("LogonType", 3e30) }), "bad_logon_type"},
		{"huge facility", sshdWith(func(a pcommon.Map) { a.PutInt("facility", math.MaxInt64) }), ""},
		// Deeply nested bodies.
		{"deeply nested body", func(lr plog.LogRecord) {
			m := lr.Body().SetEmptyMap()
			m.PutStr("category", "SignInLogs")
			for i := 0; i < 2000; i++ {
				m = m.PutEmptyMap("properties")
			}
			m.PutStr("ipAddress", attackerIP)
		}, "missing_result_type"},
		{"nested JSON string body", func(lr plog.LogRecord) {
			lr.Body().SetStr(`{"category":"SignInLogs","properties":` + strings.Repeat(`{"a":`, 100000) + strings.Repeat("}", 100000) + `}`)
		}, ""},
		// Timestamps at zero, far past, far future.
		{"timestamps at zero", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(0)
		}, ""},
		{"far past", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)))
		}, ""},
		{"far future", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)))
		}, "future_time"},
		{"maximal timestamp", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(math.MaxUint64)
		}, ""},
		{"far future TimeGenerated only", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(0)
			lr.Attributes().PutStr("TimeGenerated", "2200-12-31T23:59:59.999999999Z")
		}, "future_time"},
		{"TimeGenerated beyond what nanoseconds hold", func(lr plog.LogRecord) {
			signinWith(goodIP, failed)(lr)
			lr.SetTimestamp(0)
			lr.Attributes().PutStr("TimeGenerated", "9999-12-31T23:59:59.999999999Z")
		}, "future_time"},
	}
}

// TestHostileInputPassesAndIsCounted feeds each malformed record, alone and after a real
// event so the clock is live: it must pass through byte for byte, be counted once, and be
// counted as a rejection with the expected reason when it is one.
func TestHostileInputPassesAndIsCounted(t *testing.T) {
	for _, tc := range hostileRecords() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.consume(newBatch().failures(signinLogs, "198.51.100.1", 1, at(0)))
			b := newBatch()
			tc.build(b.record(map[string]string{"host.name": "h"}))
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
			if tc.reason == "" {
				assert.Empty(t, rejected)
			} else {
				assert.Equal(t, map[string]int64{tc.reason: 1}, rejected)
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
	for _, tc := range hostileRecords() {
		tc.build(b.record(nil))
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
