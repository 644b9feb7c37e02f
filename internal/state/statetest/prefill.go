// Package statetest builds large states for the benchmarks of the state and of checkpoints.
package statetest

import (
	"context"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/state"
)

// Prefill gives m n addresses (from 11.0.0.0) with three failed sign-ins each, half an hour ago, and
// n waiting sshd logons from the n addresses after them, so that none alerts.
func Prefill(tb testing.TB, m *state.Memory, n int) {
	tb.Helper()
	ctx := context.Background()
	now := time.Now()
	t0 := now.Add(-30 * time.Minute).UnixNano()
	res := pcommon.NewResource()
	res.Attributes().PutStr("host.name", "collector-01")
	addr := func(i int) netip.Addr {
		return netip.AddrFrom4([4]byte{byte(11 + i>>24), byte(i >> 16), byte(i >> 8), byte(i)})
	}
	events := make([]state.Event, 0, 10_000)
	flush := func(force bool) {
		if len(events) == cap(events) || (force && len(events) > 0) {
			if _, err := m.Apply(ctx, now.UnixNano(), int64(time.Minute), events, nil); err != nil {
				tb.Fatal(err)
			}
			clear(events)
			events = events[:0]
		}
	}
	for i := range n {
		for k := range 3 {
			events = append(events, state.Event{Table: 0, Addr: addr(i), Time: t0 + int64(i)*10 + int64(k)})
			flush(false)
		}
	}
	for i := range n {
		a := addr(n + i)
		t := t0 + int64(i)*10
		ev := state.Event{Logon: true, Addr: a, Time: t}
		ev.Payload = &alert.Logon{Kind: classify.LinuxLogon, Addr: a, Time: t, Resource: res, Cols: classify.Columns{
			classify.HostComputer: "web" + strconv.Itoa(i%500) + ".corp.example.com", classify.HostLogonUser: "user" + strconv.Itoa(i%5000),
			classify.HostFacility: "auth", classify.HostProcessName: "sshd",
			classify.HostSyslogMessage: "Accepted publickey for user" + strconv.Itoa(i%5000) + " from " + a.String() + " port 52144 ssh2"}}
		events = append(events, ev)
		flush(false)
	}
	flush(true)
	if ips, logons := m.Sizes(); ips != n || logons != n {
		tb.Fatalf("prefill: %d IPs and %d logons, want %d and %d", ips, logons, n, n)
	}
}
