package aadhostlogincorrelation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// signIn is a diagnostic-settings sign-in of table from ip with resultType at t.
func signIn(table, ip, resultType string, t time.Time) shapes.SignIn {
	return shapes.SignIn{Shape: shapes.DiagnosticSignIn, Table: table, Addr: ip, Result: resultType, User: "adele@contoso.com", Time: t}
}

// eventHubsMessage adds one Event Hubs message of diagnostic settings, in the given body form,
// received (its Timestamp) at received.
func (b *batch) eventHubsMessage(body shapes.WrapperBody, received time.Time, signIns []shapes.SignIn, extra ...any) *batch {
	shapes.EventHubsMessage{SignIns: signIns, Extra: extra, Body: body, Received: received}.
		Fill(b.record(map[string]string{"cloud.provider": "azure"}))
	return b
}

// TestEventHubsWrapper: every sign-in inside a wrapper counts, at its own time (not the message's),
// whatever form the wrapper arrives in; the record passes through unchanged and is counted once as
// a wrapper and once per sign-in.
func TestEventHubsWrapper(t *testing.T) {
	for name, form := range map[string]shapes.WrapperBody{"bytes": shapes.BytesBody, "string": shapes.StringBody, "map": shapes.MapBody} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			var signIns []shapes.SignIn
			for i := range 6 {
				signIns = append(signIns, signIn(signinLogs, attackerIP, "50126", at(time.Duration(i)*time.Second)))
			}
			signIns = append(signIns, signIn(nonInter, attackerIP, "50126", at(0)), signIn(signinLogs, attackerIP, "0", at(0)))
			// Received two days later: the message's Timestamp would put the failures out of the window.
			b := newBatch().eventHubsMessage(form, at(48*time.Hour), signIns, map[string]any{"category": "AuditLogs"})
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
	good := signIn(signinLogs, attackerIP, "50126", at(0)).Line()
	for _, tc := range []struct {
		name     string
		body     string
		rejected map[string]int64
		failures int64
	}{
		{"not JSON", `{"records":[` + good, map[string]int64{"bad_wrapper": 1}, 0},
		{"records not an array", `{"records":"SignInLogs"}`, map[string]int64{"bad_wrapper": 1}, 0},
		{"non-objects", `{"records":[1,[` + good + `],"x",` + good + `]}`, map[string]int64{"bad_wrapped_record": 3}, 1},
		{"invalid UTF-8", "{\"records\":[\xfe" + good + "]}", map[string]int64{"bad_wrapper": 1}, 0},
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
func benchmarkSignInsAs(b *testing.B, form shapes.WrapperBody, perRecord int) {
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), createDefaultConfig().(*Config))
	require.NoError(b, err)
	bt := newBatch()
	var signIns []shapes.SignIn
	for i := range benchBatch {
		ip := fmt.Sprintf("198.51.%d.%d", (i/250)%250, i%250)
		signIns = append(signIns, signIn(signinLogs, ip, "0", at(time.Duration(i)*time.Millisecond)))
		if len(signIns) == perRecord {
			if perRecord == 1 {
				bt.record(nil).Body().SetEmptyBytes().FromRaw([]byte(signIns[0].Line()))
			} else {
				bt.eventHubsMessage(form, at(0), signIns)
			}
			signIns = nil
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

func BenchmarkSignInJSONBytes(b *testing.B)          { benchmarkSignInsAs(b, shapes.BytesBody, 1) }
func BenchmarkEventHubsWrapper10Bytes(b *testing.B)  { benchmarkSignInsAs(b, shapes.BytesBody, 10) }
func BenchmarkEventHubsWrapper100Bytes(b *testing.B) { benchmarkSignInsAs(b, shapes.BytesBody, 100) }
func BenchmarkEventHubsWrapper100Map(b *testing.B)   { benchmarkSignInsAs(b, shapes.MapBody, 100) }
