package aadhostlogincorrelation

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// FuzzProcessLogs decodes arbitrary bytes as an OTLP logs message — so any shape of resource,
// attributes and bodies, nested at will — and runs it through the processor: it must not panic,
// and every record must pass through unchanged.
func FuzzProcessLogs(f *testing.F) {
	var m plog.ProtoMarshaler
	for _, b := range []*batch{
		newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
		newBatch().securityEvent("dc01", "::ffff:"+attackerIP, 3, at(0)).unrelated(2),
		newBatch().signin(nonInter, "2001:db8::1", "50126", at(0)),
	} {
		seed, err := m.MarshalLogs(b.ld)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	for _, tc := range shapes.HostileRecords(attackerIP, at(0))[:10] {
		b := newBatch()
		tc.Fill(b.record(nil))
		seed, _ := m.MarshalLogs(b.ld)
		f.Add(seed)
	}
	cfg := createDefaultConfig().(*Config)
	cfg.MaxTrackedIPs, cfg.MaxPendingLogons = 1000, 1000
	p, err := newCorrelationProcessor(processortest.NewNopSettings(processortest.NopType), cfg)
	if err != nil {
		f.Fatal(err)
	}
	var u plog.ProtoUnmarshaler
	f.Fuzz(func(t *testing.T, data []byte) {
		ld, err := u.UnmarshalLogs(data)
		if err != nil {
			return
		}
		want, err := m.MarshalLogs(ld)
		if err != nil {
			return
		}
		n := ld.ResourceLogs().Len()
		out, err := p.processLogs(context.Background(), ld)
		if err != nil {
			t.Fatal(err)
		}
		passed := plog.NewLogs()
		for i := 0; i < n; i++ {
			out.ResourceLogs().At(i).CopyTo(passed.ResourceLogs().AppendEmpty())
		}
		got, _ := m.MarshalLogs(passed)
		if string(got) != string(want) {
			t.Fatal("a record was changed on its way through")
		}
	})
}
