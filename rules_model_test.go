package aadhostlogincorrelation

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// ruleBRecord is one record of a random rule-B scenario and what the contract says it is.
type ruleBRecord struct {
	add    func(b *batch) // appends the record to a batch
	counts bool           // a failure of source, or a success, of rule B
	source int            // 0 SecurityEvent, 1 WindowsEvent, 2 Syslog (failures)
	ev     windowtest.Event
}

// The addresses of the scenarios: pairs that are the same address written two ways.
var ruleBAddrs = []string{"203.0.113.7", "::ffff:203.0.113.7", "2001:db8::5", "2001:db8:0:0:0:0:0:5", "198.51.100.9"}

var ruleBSources = []string{"SecurityEvent", "WindowsEvent", "Syslog"}

// randomRuleBRecord draws a record of one of rule B's shapes: failures that count and near misses
// (4625 of logon type 2 or address "-", sshd lines with an excluded term, a connection line, sudo)
// and sign-ins that succeed or fail.
func randomRuleBRecord(rng *rand.Rand, id int, t time.Time) ruleBRecord {
	ip := ruleBAddrs[rng.IntN(len(ruleBAddrs))]
	addr := netip.MustParseAddr(ip).Unmap()
	r := ruleBRecord{ev: windowtest.Event{ID: id, IP: addr, T: t.UnixNano()}}
	switch rng.IntN(6) {
	case 0, 1: // Windows 4625
		shape := []shapes.WindowsShape{shapes.SecurityEventRow, shapes.WindowsEventRow}[rng.IntN(2)]
		logonType := []int{3, 10, 7, 2}[rng.IntN(4)]
		address := ip
		if rng.IntN(6) == 0 {
			address = "-"
		}
		r.counts = logonType != 2 && address != "-"
		r.source = slices.Index(ruleBSources, []string{"SecurityEvent", "WindowsEvent"}[shape])
		r.add = func(b *batch) {
			b.add(map[string]string{"host.name": "dc01"}, shapes.Windows{Shape: shape, EventID: 4625, LogonType: logonType, Addr: address,
				Computer: "dc01", Numbers: true, Time: t}.Fill, t)
		}
	case 2, 3: // auth syslog
		lines := []struct {
			text   string
			counts bool
		}{
			{shapes.SSHD{Event: "Failed", InvalidUser: true, User: "admin", Addr: ip, Port: 4711}.String(), true},
			{shapes.InvalidUser("oracle", ip, 4712), true},
			{shapes.SSHD{Event: "Failed", Method: "publickey", User: "root", Addr: ip, Port: 4713, Extra: "RSA SHA256:x"}.String(), true},
			{shapes.ConnectionClosed("authenticating user root", ip, 4714), false},
			{shapes.Disconnected("invalid user admin", ip, 4715, true), false},
			{shapes.ConnectionFrom(ip, 4716, "10.0.0.1"), false},
			{shapes.SSHD{User: "alice", Addr: ip, Port: 4717}.String(), false},
		}
		line := lines[rng.IntN(len(lines))]
		process := "sshd"
		if rng.IntN(8) == 0 {
			process = "sudo"
		}
		r.counts, r.source = line.counts && process == "sshd", 2
		r.add = func(b *batch) { b.sshd("web01", process, line.text, 4, t) }
	default: // a sign-in
		table := []string{signinLogs, nonInter}[rng.IntN(2)]
		result := []string{"0", "50125", "50140", "50126"}[rng.IntN(4)]
		r.counts, r.ev.Logon = result != "50126", true
		r.add = func(b *batch) {
			b.add(map[string]string{"cloud.provider": "azure"}, shapes.SignIn{Table: table, Addr: ip, Result: result,
				User: fmt.Sprintf("user%d@contoso.com", id), Time: t}.Fill, t)
		}
	}
	r.ev.Table = r.source
	return r
}

// TestReverseRuleAgainstTheModel feeds random rule-B scenarios, built from the record shapes with
// what each record is by the contract, through the processor in several arrival orders and batch
// sizes, and checks the alerts against the brute-force model: counts per source, the 4625 filters,
// the sshd filter terms, IPv6 and mapped addresses, any order.
func TestReverseRuleAgainstTheModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	const threshold, window = 2, 5 * time.Minute
	settings := windowtest.Settings{Rules: []windowtest.RuleSettings{{Threshold: threshold, Window: int64(window), Counters: []int{0, 1, 2}}}}
	for scenario := 0; scenario < 200; scenario++ {
		var records []ruleBRecord
		for i := range 10 + rng.IntN(40) {
			records = append(records, randomRuleBRecord(rng, i, at(time.Duration(rng.IntN(180))*10*time.Second)))
		}
		for order := range 3 {
			jitter := []int64{0, int64(2 * time.Minute), int64(20 * time.Minute)}[order]
			arrival := windowtest.Arrival(rng, records, func(r ruleBRecord) int64 { return r.ev.T }, jitter)
			h := newHarness(t, func(c *Config) {
				th, w := threshold, window
				c.Rules = []RuleConfig{{ID: "host-then-aad", Threshold: &th, Window: &w}}
			})
			var emitted []windowtest.Emitted
			var model []windowtest.Event
			size := 1 + rng.IntN(6)
			for start := 0; start < len(arrival); start += size {
				b := newBatch()
				for _, r := range arrival[start:min(start+size, len(arrival))] {
					r.add(b)
					if r.counts {
						model = append(model, r.ev)
					}
				}
				for _, a := range h.consume(b) {
					emitted = append(emitted, emittedOf(t, a))
				}
			}
			if bad := windowtest.Check(settings, nil, model, emitted, 0, 0); len(bad) > 0 {
				for _, r := range arrival {
					t.Logf("%+v counts=%v", r.ev, r.counts)
				}
				t.Fatalf("scenario %d order %d: %v", scenario, order, bad)
			}
		}
	}
}

// emittedOf reads back which success and source an alert of rule B is about.
func emittedOf(t *testing.T, a plog.LogRecord) windowtest.Emitted {
	t.Helper()
	get := func(k string) string { v, _ := a.Attributes().Get(k); return v.AsString() }
	var id int
	if _, err := fmt.Sscanf(get("UserPrincipalName"), "user%d@contoso.com", &id); err != nil {
		t.Fatalf("alert of an unknown sign-in: %v", a.Attributes().AsRaw())
	}
	return windowtest.Emitted{ID: id, Table: slices.Index(ruleBSources, get("FailedLogonSource")),
		IP: netip.MustParseAddr(get("IPAddress")), T: a.Timestamp().AsTime().UnixNano()}
}
