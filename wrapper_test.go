package aadhostlogincorrelation

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"
)

// diagSignIn is one Azure diagnostic-settings sign-in record, as an Event Hubs message carries it.
func diagSignIn(category, ip, resultType string, t time.Time) map[string]any {
	return map[string]any{
		"time":            t.UTC().Format(time.RFC3339Nano),
		"category":        category,
		"operationName":   "Sign-in activity",
		"resultType":      resultType,
		"callerIpAddress": ip,
		"properties": map[string]any{
			"userPrincipalName": "adele@contoso.com",
			"ipAddress":         ip,
			"status":            map[string]any{"errorCode": resultType},
		},
	}
}

// eventHubsMessage adds one record whose body is the diagnostic-settings wrapper of records, in the
// given form: "bytes" (the Kafka receiver's raw encoding), "string" (its text encoding) or "map" (after
// a JSON parse). The record carries the message's time, not the sign-ins'.
func (b *batch) eventHubsMessage(form string, received time.Time, records ...map[string]any) *batch {
	lr := b.record(map[string]string{"cloud.provider": "azure"})
	lr.SetTimestamp(pcommon.NewTimestampFromTime(received))
	lr.Attributes().PutStr("kafka.topic", "insights-logs-signinlogs")
	elems := make([]any, len(records))
	for i, r := range records {
		elems[i] = r
	}
	wrapper := map[string]any{"records": elems}
	text, err := json.Marshal(wrapper)
	if err != nil {
		panic(err)
	}
	switch form {
	case "bytes":
		lr.Body().SetEmptyBytes().FromRaw(text)
	case "string":
		lr.Body().SetStr(string(text))
	case "map":
		if err := lr.Body().SetEmptyMap().FromRaw(wrapper); err != nil {
			panic(err)
		}
	default:
		panic("form " + form)
	}
	return b
}

// TestEventHubsWrapper: every sign-in inside a wrapper counts, at its own time (not the message's),
// whatever form the wrapper arrives in; the record passes through unchanged and is counted once as
// a wrapper and once per sign-in.
func TestEventHubsWrapper(t *testing.T) {
	for _, form := range []string{"bytes", "string", "map"} {
		t.Run(form, func(t *testing.T) {
			h := newHarness(t, nil)
			var failures []map[string]any
			for i := range 6 {
				failures = append(failures, diagSignIn("SignInLogs", attackerIP, "50126", at(time.Duration(i)*time.Second)))
			}
			others := []map[string]any{
				diagSignIn("NonInteractiveUserSignInLogs", attackerIP, "50126", at(0)),
				diagSignIn("SignInLogs", attackerIP, "0", at(0)),
				{"category": "AuditLogs", "time": at(0).Format(time.RFC3339)},
			}
			// Received two days later: the message's Timestamp would put the failures out of the window.
			b := newBatch().eventHubsMessage(form, at(48*time.Hour), append(failures, others...)...)
			var m plog.ProtoMarshaler
			want, err := m.MarshalLogs(b.ld)
			require.NoError(t, err)
			b.sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))

			got := h.consume(b)
			assert.Equal(t, []summary{{attackerIP, "web01", signinLogs, "Syslog"}}, summarize(got))
			count, _ := got[0].Attributes().Get("FailedSignInCount")
			assert.Equal(t, int64(6), count.Int())

			out := h.sink.AllLogs()[0]
			passed := plog.NewLogs()
			out.ResourceLogs().At(0).CopyTo(passed.ResourceLogs().AppendEmpty())
			gotBytes, err := m.MarshalLogs(passed)
			require.NoError(t, err)
			assert.Equal(t, want, gotBytes, "the wrapper passes through unchanged")
			assert.Equal(t, map[string]int64{"wrapper": 1, "failed_signin": 7, "signin": 1, "unrelated": 1, "linux_logon": 1},
				metricByAttr(t, h, "records", "kind"))
		})
	}
}

// TestHostileWrappers: wrappers that cannot be read, or hold things that are no records, pass
// through byte for byte and are counted rejections; the sign-ins around them still count.
func TestHostileWrappers(t *testing.T) {
	good, err := json.Marshal(diagSignIn("SignInLogs", attackerIP, "50126", at(0)))
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		body     string
		rejected map[string]int64
		failures int64
	}{
		{"not JSON", `{"records":[` + string(good), map[string]int64{"bad_wrapper": 1}, 0},
		{"records not an array", `{"records":"SignInLogs"}`, map[string]int64{"bad_wrapper": 1}, 0},
		{"non-objects", `{"records":[1,[` + string(good) + `],"x",` + string(good) + `]}`, map[string]int64{"bad_wrapped_record": 3}, 1},
		{"invalid UTF-8", "{\"records\":[\xfe" + string(good) + "]}", map[string]int64{"bad_wrapper": 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			b := newBatch()
			b.record(nil).Body().SetEmptyBytes().FromRaw([]byte(tc.body))
			var m plog.ProtoMarshaler
			want, err := m.MarshalLogs(b.ld)
			require.NoError(t, err)
			require.NotPanics(t, func() { require.NoError(t, h.proc.ConsumeLogs(context.Background(), b.ld)) })
			got, err := m.MarshalLogs(h.sink.AllLogs()[0])
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, tc.rejected, metricByAttr(t, h, "rejected", "reason"))
			assert.Equal(t, tc.failures, metricByAttr(t, h, "records", "kind")["failed_signin"], fmt.Sprint(tc.body))
		})
	}
}

// benchmarkSignInsAs runs batches of 1000 sign-ins (successful ones, so that the state does not grow
// from run to run) that arrive perRecord to a record: one diagnostic-settings record per record
// (perRecord 1, JSON bytes), or Event Hubs wrappers of perRecord of them. ns/signin is what one
// sign-in costs either way.
func benchmarkSignInsAs(b *testing.B, form string, perRecord int) {
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), createDefaultConfig().(*Config))
	require.NoError(b, err)
	bt := newBatch()
	var records []map[string]any
	for i := range benchBatch {
		ip := fmt.Sprintf("198.51.%d.%d", (i/250)%250, i%250)
		records = append(records, diagSignIn("SignInLogs", ip, "0", at(time.Duration(i)*time.Millisecond)))
		if len(records) == perRecord {
			if perRecord == 1 {
				text, err := json.Marshal(records[0])
				require.NoError(b, err)
				bt.record(nil).Body().SetEmptyBytes().FromRaw(text)
			} else {
				bt.eventHubsMessage(form, at(0), records...)
			}
			records = records[:0]
		}
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.processLogs(ctx, bt.ld); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchBatch), "ns/signin")
}

func BenchmarkSignInJSONBytes(b *testing.B)          { benchmarkSignInsAs(b, "bytes", 1) }
func BenchmarkEventHubsWrapper10Bytes(b *testing.B)  { benchmarkSignInsAs(b, "bytes", 10) }
func BenchmarkEventHubsWrapper100Bytes(b *testing.B) { benchmarkSignInsAs(b, "bytes", 100) }
func BenchmarkEventHubsWrapper100Map(b *testing.B)   { benchmarkSignInsAs(b, "map", 100) }
