package aadhostlogincorrelation

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window/windowtest"
)

// Rules C and D beside the seed, through the processor, against the brute-force model: random
// records of every shape they read (sign-ins of both tables that fail or succeed, as Sentinel rows,
// diagnostic JSON or inside an Event Hubs message; console logins that succeed, fail, say something
// else or come from an excluded address, as Sentinel rows, raw events or inside a CloudTrail file;
// other CloudTrail events; sshd logons), in several arrival orders and batch sizes, in memory and in
// Redis, each also cut by a restart at a random point.

// The running rules of these scenarios, in order: the seed (rule 0), rule C (1) with the seed's
// threshold and window so that the two share the sign-in counters, and rule D (2).
const (
	awsThreshold, awsWindow = 2, 5 * time.Minute
	dThreshold, dWindow     = 1, 3 * time.Minute
)

func awsRules(c *Config) {
	th, w, dth, dw := awsThreshold, awsWindow, dThreshold, dWindow
	c.Rules = []RuleConfig{
		{ID: "aad-then-host", Threshold: &th, Window: &w},
		{ID: "643c2025-9604-47c5-833f-7b4b9378a1f5", Threshold: &th, Window: &w},
		{ID: "aws-console-then-aad", Threshold: &dth, Window: &dw},
	}
}

// The model's counters: the two sign-in tables (read by the seed and rule C), console failures.
var awsModel = windowtest.Settings{Rules: []windowtest.RuleSettings{
	{Threshold: awsThreshold, Window: int64(awsWindow), Counters: []int{0, 1}},
	{Threshold: awsThreshold, Window: int64(awsWindow), Counters: []int{0, 1}},
	{Threshold: dThreshold, Window: int64(dWindow), Counters: []int{2}},
}}

// awsRecord is one record of a scenario and what the contract says it is: nothing, one failure of
// a counter, or one success of a rule.
type awsRecord struct {
	add    func(b *batch)
	counts bool
	ev     windowtest.Event
}

var awsAddrs = []string{"203.0.113.7", "::ffff:203.0.113.7", "2001:db8::5", "2001:db8:0:0:0:0:0:5", "198.51.100.9"}

func randomAWSRecord(rng *rand.Rand, id int, t time.Time) awsRecord {
	ip := awsAddrs[rng.IntN(len(awsAddrs))]
	r := awsRecord{ev: windowtest.Event{ID: id, IP: netip.MustParseAddr(ip).Unmap(), T: t.UnixNano()}}
	user := fmt.Sprintf("u%d", id)
	switch rng.IntN(7) {
	case 0, 1: // a sign-in, failed or not, of either table
		table := []string{signinLogs, nonInter}[rng.IntN(2)]
		result := []string{"50126", "50126", "50053", "0", "50125", "50140"}[rng.IntN(6)]
		failed := result == "50126" || result == "50053"
		switch {
		case failed:
			r.counts, r.ev.Table = true, slices.Index([]string{signinLogs, nonInter}, table)
		case table == signinLogs: // a success of rule D
			r.counts, r.ev.Logon, r.ev.Rule = true, true, 2
		}
		s := shapes.SignIn{Table: table, Addr: ip, Result: result, User: user + "@contoso.com", Time: t}
		switch rng.IntN(3) {
		case 0:
			r.add = func(b *batch) { s.Fill(b.record(nil)) }
		case 1:
			s.Shape = shapes.DiagnosticSignIn
			r.add = func(b *batch) { b.record(nil).Body().SetStr(s.Line()) }
		default:
			r.add = func(b *batch) {
				b.eventHubsMessage(shapes.WrapperBody(rng.IntN(3)), at(48*time.Hour), []shapes.SignIn{s})
			}
		}
	case 2, 3, 4: // a console login, or another CloudTrail event
		c := shapes.ConsoleLogin{Addr: ip, UserName: user, Time: t}
		switch rng.IntN(8) {
		case 0, 1, 2:
			c.Result, r.counts, r.ev.Table = "Failure", true, 2
		case 3, 4:
			c.Result, r.counts, r.ev.Logon, r.ev.Rule = "Success", true, true, 1
		case 5:
			c.Result = "Pending"
		case 6:
			c.Result, c.Addr = "Failure", "127.0.0.1"
		default:
			c.EventName, c.EventSource = "DescribeInstances", "ec2.amazonaws.com"
		}
		switch rng.IntN(4) {
		case 0:
			r.add = func(b *batch) { c.Fill(b.record(nil)) }
		case 1:
			c.Shape = shapes.CloudTrailEvent
			r.add = func(b *batch) { c.Fill(b.record(nil)) }
		case 2:
			c.Shape = shapes.CloudTrailEvent
			r.add = func(b *batch) { b.record(nil).Body().SetEmptyBytes().FromRaw([]byte(c.Line())) }
		default:
			other := shapes.ConsoleLogin{EventName: "GetCallerIdentity", EventSource: "sts.amazonaws.com", Time: t}
			r.add = func(b *batch) {
				shapes.CloudTrailFile{Events: []shapes.ConsoleLogin{other, c}, Body: shapes.WrapperBody(rng.IntN(3))}.Fill(b.record(nil))
			}
		}
	default: // an sshd logon: a success of the seed
		r.counts, r.ev.Logon, r.ev.Rule = true, true, 0
		r.add = func(b *batch) { b.sshd("web01", "sshd", accepted(user, ip), 4, t) }
	}
	return r
}

// awsEmitted reads back which success, rule and counter an alert of these rules is about: the
// success's id is in its user name, the rule in security_rule.uuid, the counter in the rule's
// failure-source column.
func awsEmitted(t *testing.T, a plog.LogRecord) windowtest.Emitted {
	t.Helper()
	get := func(k string) string { v, _ := a.Attributes().Get(k); return v.AsString() }
	var id int
	if _, err := fmt.Sscanf(get("user.name"), "u%d", &id); err != nil {
		t.Fatalf("alert of an unknown success: %v", a.Attributes().AsRaw())
	}
	rule := slices.IndexFunc([]string{rules.AADThenHost.ID, rules.AADThenAWSConsole.ID, rules.AWSConsoleThenAAD.ID},
		func(s string) bool { return s == get("security_rule.uuid") })
	r := []*rules.Rule{&rules.AADThenHost, &rules.AADThenAWSConsole, &rules.AWSConsoleThenAAD}[rule]
	table := map[string]int{signinLogs: 0, nonInter: 1, "AWSCloudTrail": 0}[get(r.FailureSource)]
	ip := get("source.address")
	return windowtest.Emitted{ID: id, Rule: rule, Table: table, IP: netip.MustParseAddr(ip), T: a.Timestamp().AsTime().UnixNano()}
}

// awsState makes fresh state for one run and returns how to start a processor on it (again, after
// a clean stop, for a restart).
type awsState func(t *testing.T) (start func() (h *harness, stop func()))

func runAWSScenarios(t *testing.T, name string, fresh awsState, scenarios int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 13))
	alertsPerRule := make([]int, len(awsModel.Rules))
	defer func() {
		for rule, n := range alertsPerRule {
			if n == 0 && !t.Failed() {
				t.Errorf("%s: rule %d never alerted in %d scenarios: they test nothing of it", name, rule, scenarios)
			}
		}
	}()
	for scenario := 0; scenario < scenarios; scenario++ {
		var records []awsRecord
		for i := range 20 + rng.IntN(40) {
			records = append(records, randomAWSRecord(rng, i, at(time.Duration(rng.IntN(60))*10*time.Second)))
		}
		for order := range 3 {
			jitter := []int64{0, int64(2 * time.Minute), int64(20 * time.Minute)}[order]
			arrival := windowtest.Arrival(rng, records, func(r awsRecord) int64 { return r.ev.T }, jitter)
			cut := len(arrival) // no restart in the first order
			if order > 0 {
				cut = rng.IntN(len(arrival) + 1)
			}
			start := fresh(t)
			var emitted []windowtest.Emitted
			var model []windowtest.Event
			size := 1 + rng.IntN(6)
			for _, part := range [][]awsRecord{arrival[:cut], arrival[cut:]} {
				h, stop := start()
				for from := 0; from < len(part); from += size {
					b := newBatch()
					for _, r := range part[from:min(from+size, len(part))] {
						r.add(b)
						if r.counts {
							model = append(model, r.ev)
						}
					}
					for _, a := range h.consume(b) {
						emitted = append(emitted, awsEmitted(t, a))
						alertsPerRule[emitted[len(emitted)-1].Rule]++
					}
				}
				stop()
			}
			if bad := windowtest.Check(awsModel, nil, model, emitted, 0, 0); len(bad) > 0 {
				for _, r := range arrival {
					t.Logf("%+v counts=%v", r.ev, r.counts)
				}
				t.Fatalf("%s: scenario %d order %d (restart after %d records): %v", name, scenario, order, cut, bad)
			}
		}
	}
}

// TestConsoleRulesAgainstTheModel runs the scenarios in memory; a restart goes through a checkpoint.
func TestConsoleRulesAgainstTheModel(t *testing.T) {
	runAWSScenarios(t, "memory", func(t *testing.T) func() (*harness, func()) {
		rig := newStorageRig(t)
		return func() (*harness, func()) {
			h, stop, _, _ := rig.startWith(t, time.Hour, awsRules)
			return h, stop
		}
	}, modelScenarios(100), 41)
}
