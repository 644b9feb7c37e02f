//go:build e2e

package e2e_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// The restart collector: OTLP/gRPC in, the processor, OTLP/gRPC out to a test sink. With a StateDir
// the processor checkpoints into file_storage there (compacted at start, as examples/restart-safe.yaml
// does); without one it keeps its state in memory only (the uninterrupted reference run).
const restartConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:{{ .OTLPGRPC }}

processors:
  aadhostlogincorrelation:
    window: {{ .Window }}
{{- if .StateDir }}
    storage: file_storage
    checkpoint_interval: {{ .Interval }}
{{- end }}

exporters:
  otlp_grpc:
    endpoint: {{ .Sink }}
    tls:
      insecure: true

extensions:
  health_check:
    endpoint: 127.0.0.1:{{ .Health }}
{{- if .StateDir }}
  file_storage:
    directory: "{{ .StateDir }}"
    compaction:
      on_start: true
      directory: "{{ .StateDir }}"
{{- end }}

service:
  extensions: [health_check{{ if .StateDir }}, file_storage{{ end }}]
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{ .Metrics }}
  pipelines:
    logs:
      receivers: [otlp]
      processors: [aadhostlogincorrelation]
      exporters: [otlp_grpc]
`

type restartParams struct {
	OTLPGRPC, Health, Metrics int
	Sink                      string
	StateDir                  string // "" for no storage
	Interval                  string // checkpoint_interval
	Window                    string
}

// restartCollector is a running restart collector.
type restartCollector struct {
	*collector
	endpoint string  // its OTLP/gRPC receiver
	metrics  gateway // its own metrics, read as fleet_test.go reads a gateway's
}

// startRestartCollector starts a restart collector exporting to sink; stateDir "" runs it without
// storage.
func startRestartCollector(t *testing.T, sink *otlpSink, stateDir, interval string) restartCollector {
	t.Helper()
	return startRestartCollectorWith(t, restartParams{Sink: sink.endpoint, StateDir: stateDir, Interval: interval, Window: "24h"})
}

func startRestartCollectorWith(t *testing.T, p restartParams) restartCollector {
	t.Helper()
	// freePort releases the port it found, so a later call may find the same one again.
	ports := map[int]bool{}
	for len(ports) < 3 {
		ports[freePort(t)] = true
	}
	for port := range ports {
		switch {
		case p.OTLPGRPC == 0:
			p.OTLPGRPC = port
		case p.Health == 0:
			p.Health = port
		default:
			p.Metrics = port
		}
	}
	p.StateDir = filepath.ToSlash(p.StateDir)
	c := startCollector(t, writeConfig(t, restartConfig, p), p.Health)
	return restartCollector{collector: c, endpoint: fmt.Sprintf("127.0.0.1:%d", p.OTLPGRPC), metrics: gateway{metrics: p.Metrics}}
}

// send sends the records of parts of rs to the collector.
func (c restartCollector) send(t *testing.T, rs restartScenario, parts ...part) int {
	t.Helper()
	return rs.send(t, c.endpoint, parts...)
}

// requireLog fails the test unless the collector's log has what in it.
func (c restartCollector) requireLog(t *testing.T, what string) {
	t.Helper()
	if !strings.Contains(c.log(), what) {
		t.Errorf("the collector's log does not say %q", what)
	}
}

// checkStateErrors compares the collector's state_errors (checkpoint failures among them) with want.
func (c restartCollector) checkStateErrors(t *testing.T, want int) {
	t.Helper()
	if got := c.metrics.stateErrors(t); got != want {
		t.Errorf("state_errors = %d, want %d", got, want)
	}
}

// ---------------------------------------------------------------------------------------------------
// The scenario, cut in two.

// part says when a record of the restart scenario is sent.
type part int

const (
	firstHalf  part = iota + 1 // before the restart
	secondHalf                 // after it
	// lostPart is sent before the restart too; after a kill -9 it is sent after the last checkpoint
	// and never again, so its contribution is lost.
	lostPart
)

var everyPart = []part{firstHalf, lostPart, secondHalf}

type restartRecord struct {
	part   part
	fill   func(plog.LogRecordSlice)
	signIn *signIn    // what the model sees of the record: a sign-in,
	logon  *hostLogon // a possible host logon, or neither (noise)
}

// restartScenario is buildScenario's scenario, every record sent over OTLP/gRPC in the shape its
// receiver would give it, each record in a part.
type restartScenario struct {
	*scenario
	now     time.Time // what the scenario was built around
	records []restartRecord
}

// lostAddr is the address of K, the group whose failure is sent after the last checkpoint.
const lostAddr = "198.51.100.90"

// buildRestartScenario cuts buildScenario's scenario so that most alerts need records from both
// sides of the restart:
//
//   - A (203.0.113.10): the logon and five failures before, the sixth failure after;
//   - B (203.0.113.20): three failures before, three and the logon after;
//   - C (198.51.100.30, both tables): every failure before, the logon after (two alerts);
//   - D (192.0.2.80): the whole alert before; three more failures after, which must not alert again;
//   - E (2001:db8::77): the logon before, every failure after;
//   - F (203.0.113.70): the whole alert before;
//   - G, H, I (no alert): failures before; what is not a failure (H) and the logons after;
//   - J (no alert): its logon after;
//   - K (198.51.100.90, added): the logon and four failures before, one failure in lostPart, the sixth
//     after: it alerts only if the lost failure is remembered.
func buildRestartScenario(now time.Time) restartScenario {
	s := buildScenario(now)
	for _, l := range s.logons {
		if l.computer == "bastion01" {
			s.failures(3, nonInteractive, "192.0.2.80", "50126", l.at.Add(time.Minute), diagnosticMapBody, otlpHTTP)
		}
	}
	kAt := now.Add(-15 * time.Minute).Truncate(time.Second)
	s.failures(signinThreshold+1, signinLogs, lostAddr, "50126", kAt, sentinelAttributes, otlpGRPC)
	s.logons = append(s.logons, hostLogon{source: "SecurityEvent", computer: "WIN-JUMP03.corp.example.com", at: kAt.Add(-time.Minute), via: otlpGRPC,
		eventID: 4624, logonType: 10, addr: lostAddr, account: `CORP\frank`})

	rs := restartScenario{scenario: s, now: now}
	seen := map[string]int{} // failures so far per address and table
	for i := range s.signIns {
		si := &s.signIns[i]
		n := seen[si.addr+" "+si.table]
		seen[si.addr+" "+si.table]++
		p := firstHalf
		switch si.addr {
		case "203.0.113.10", "198.51.100.50": // A: the sixth failure; H: what is not a failure
			if n >= signinThreshold {
				p = secondHalf
			}
		case "203.0.113.20":
			if n >= 3 {
				p = secondHalf
			}
		case "192.0.2.80":
			if n > signinThreshold {
				p = secondHalf
			}
		case "2001:db8::77":
			p = secondHalf
		case lostAddr:
			switch n {
			case signinThreshold - 1:
				p = lostPart
			case signinThreshold:
				p = secondHalf
			}
		}
		rs.records = append(rs.records, restartRecord{part: p, fill: si.appendTo, signIn: si})
	}
	for i := range s.logons {
		l := &s.logons[i]
		p := firstHalf
		if addr, ok := logonAddr(*l); ok && slices.Contains([]string{"203.0.113.20", "198.51.100.30", "198.51.100.40",
			"198.51.100.50", "127.0.0.1", "192.0.2.99"}, addr.String()) {
			p = secondHalf
		}
		fill := l.appendTo
		if l.source == "Syslog" {
			fill = l.syslogReceiverRecord
		}
		rs.records = append(rs.records, restartRecord{part: p, fill: fill, logon: l})
	}
	n := 0
	for _, lines := range s.noise {
		for _, text := range lines {
			rs.records = append(rs.records, restartRecord{part: part(n%2) + firstHalf, fill: func(lrs plog.LogRecordSlice) { lrs.AppendEmpty().Body().SetStr(text) }})
			n++
		}
	}
	return rs
}

// alerts is the model's answer (the rule's semantics, scenario_test.go) for the records of parts.
func (rs restartScenario) alerts(parts ...part) []alertKey {
	var sub scenario
	for _, r := range rs.records {
		if !slices.Contains(parts, r.part) {
			continue
		}
		if r.signIn != nil {
			sub.signIns = append(sub.signIns, *r.signIn)
		}
		if r.logon != nil {
			sub.logons = append(sub.logons, *r.logon)
		}
	}
	return sub.expectedAlerts()
}

// send sends the records of parts, each in its own OTLP/gRPC request, and returns how many.
func (rs restartScenario) send(t *testing.T, endpoint string, parts ...part) int {
	t.Helper()
	sent := 0
	for _, p := range parts {
		for _, r := range rs.records {
			if r.part == p {
				sent += sendOTLPGRPC(t, endpoint, r.fill)
			}
		}
	}
	return sent
}

// checkCut fails the test unless the cut does what buildRestartScenario says: two alerts before the
// restart, none from the second half alone, eight in all, seven without K's lost failure.
func (rs restartScenario) checkCut(t *testing.T) {
	t.Helper()
	first, second := rs.alerts(firstHalf, lostPart), rs.alerts(secondHalf)
	all, withoutLost := rs.alerts(everyPart...), rs.alerts(firstHalf, secondHalf)
	if len(first) != 2 || len(second) != 0 || len(all) != 8 || len(withoutLost) != 7 {
		t.Fatalf("the cut scenario's model gives %d alerts before the restart (want 2), %d from the second half alone (want 0), "+
			"%d in all (want 8), %d without the lost part (want 7): the scenario changed, not the processor", len(first), len(second), len(all), len(withoutLost))
	}
	for _, k := range withoutLost {
		if k.IpAddress == lostAddr {
			t.Fatalf("the model alerts on %v without the lost failure", k)
		}
	}
}

// ---------------------------------------------------------------------------------------------------
// Waiting.

// awaitProcessed waits, without lingering, until sink holds passed pass-through records and alerts
// alerts: with emit: all, a record reaches the sink only after the processor has handled it, and an
// alert travels in the same batch as the record that decided it.
func awaitProcessed(t *testing.T, what string, sink *otlpSink, passed, alerts int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _, through := sink.snapshot()
		if len(through) >= passed && len(got) >= alerts {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s after 20s: %d of %d records passed through, %d of %d alerts", what, len(through), passed, len(got), alerts)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// uninterrupted is the whole restart scenario run through a collector without storage, never
// stopped: what a restarted run is compared with.
type uninterrupted struct {
	sink *otlpSink
	sent int
}

// startRestartScenario builds the restart scenario, checks its cut and starts its uninterrupted run;
// finish awaits that run.
func startRestartScenario(t *testing.T) (restartScenario, uninterrupted) {
	t.Helper()
	collectorBinary(t)
	rs := buildRestartScenario(time.Now().UTC())
	rs.checkCut(t)
	sink := startOTLPSink(t)
	return rs, uninterrupted{sink: sink, sent: startRestartCollector(t, sink, "", "").send(t, rs, everyPart...)}
}

// checkpointFile is the file file_storage keeps the processor's checkpoint meta and journal in (not
// the one of the checkpoint marker, "…_marker", which records that checkpoints were written, nor
// the one of its bases, "…_bases").
func checkpointFile(t *testing.T, dir string) string {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(dir, "processor_aadhostlogincorrelation_*"))
	matches = slices.DeleteFunc(matches, func(m string) bool { return strings.HasSuffix(m, "_marker") || strings.HasSuffix(m, "_bases") })
	if err != nil || len(matches) != 1 {
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("want one processor_aadhostlogincorrelation_* file in the storage directory, have %v (%v)", names, err)
	}
	return matches[0]
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// awaitQuiet waits until the checkpoint file has not changed for quiet, and returns its content.
// The processor writes its journal every checkpoint_interval when something was observed (and at
// once after a batch that carries an alert), and nothing when nothing was: a file unchanged for
// several intervals holds everything processed so far.
func awaitQuiet(t *testing.T, path string, quiet, within time.Duration) []byte {
	t.Helper()
	last, since := readFile(t, path), time.Now()
	deadline := since.Add(within)
	for time.Since(since) < quiet {
		if time.Now().After(deadline) {
			t.Fatalf("the checkpoint file was still changing after %s", within)
		}
		time.Sleep(5 * time.Millisecond)
		if b := readFile(t, path); !bytes.Equal(b, last) {
			last, since = b, time.Now()
		}
	}
	return last
}

// finish waits for the split run's sink (awaitSink lingers so that a late extra alert would be seen)
// and the uninterrupted run's, then compares: the uninterrupted run made the model's alerts, and the
// split run made want (a multiset: a duplicate fails).
func finish(t *testing.T, split *otlpSink, splitSent int, want []alertKey, whole uninterrupted, rs restartScenario) {
	t.Helper()
	all := rs.alerts(everyPart...)
	awaitProcessed(t, "uninterrupted run", whole.sink, whole.sent, len(all))
	awaitSink(t, "after the restart", split, splitSent, len(want))
	wholeAlerts, _, wholePassed := whole.sink.snapshot()
	splitAlerts, _, splitPassed := split.snapshot()
	if len(wholePassed) != whole.sent || len(splitPassed) != splitSent {
		t.Errorf("records passed through: uninterrupted %d of %d, restarted %d of %d", len(wholePassed), whole.sent, len(splitPassed), splitSent)
	}
	assertAlertSet(t, "uninterrupted run against the model", wholeAlerts, all)
	assertAlertSet(t, "restarted run", splitAlerts, want)
	for _, a := range splitAlerts {
		checkAlertAttributes(t, rs.scenario, a, rs.now)
	}
}

// finishLikeUninterrupted is finish for a restart that must lose nothing: the restarted run c made
// exactly the uninterrupted run's alerts, none twice, and counted no state error.
func finishLikeUninterrupted(t *testing.T, c restartCollector, split *otlpSink, splitSent int, whole uninterrupted, rs restartScenario) {
	t.Helper()
	finish(t, split, splitSent, rs.alerts(everyPart...), whole, rs)
	wholeAlerts, _, _ := whole.sink.snapshot()
	splitAlerts, _, _ := split.snapshot()
	assertAlertSet(t, "restarted run against the uninterrupted run", splitAlerts, keys(wholeAlerts))
	c.checkStateErrors(t, 0)
}

// keys are the alert keys of records.
func keys(records []plog.LogRecord) []alertKey {
	var out []alertKey
	for _, lr := range records {
		out = append(out, keyOf(lr))
	}
	return out
}

// ---------------------------------------------------------------------------------------------------

// TestRestartCleanStop: half of the scenario, SIGTERM (the checkpoint interval is an hour, so only the
// save at shutdown counts), a new collector on the same storage, the other half: the alerts are those
// of an uninterrupted run of the whole scenario, none twice.
func TestRestartCleanStop(t *testing.T) {
	rs, whole := startRestartScenario(t)

	sink, dir := startOTLPSink(t), t.TempDir()
	c := startRestartCollector(t, sink, dir, "1h")
	c.requireLog(t, "no checkpoint yet")
	sent := c.send(t, rs, firstHalf, lostPart)
	awaitProcessed(t, "first half", sink, sent, len(rs.alerts(firstHalf, lostPart)))
	c.stop(t)

	c = startRestartCollector(t, sink, dir, "1h")
	c.requireLog(t, "state restored from checkpoint")
	sent += c.send(t, rs, secondHalf)

	finishLikeUninterrupted(t, c, sink, sent, whole, rs)
}

// TestRestartAfterKill9: half of the scenario, a periodic checkpoint taken after it, kill -9, a new
// collector on the same storage, the other half: the alerts are the uninterrupted run's, none twice.
func TestRestartAfterKill9(t *testing.T) {
	rs, whole := startRestartScenario(t)

	sink, dir := startOTLPSink(t), t.TempDir()
	c := startRestartCollector(t, sink, dir, "200ms")
	sent := c.send(t, rs, firstHalf, lostPart)
	awaitProcessed(t, "first half", sink, sent, len(rs.alerts(firstHalf, lostPart)))
	awaitQuiet(t, checkpointFile(t, dir), time.Second, 10*time.Second)
	c.kill(t)

	c = startRestartCollector(t, sink, dir, "200ms")
	c.requireLog(t, "state restored from checkpoint")
	sent += c.send(t, rs, secondHalf)

	finishLikeUninterrupted(t, c, sink, sent, whole, rs)
}

// TestRestartAfterKill9LosesOnlyWhatFollowedTheCheckpoint: as TestRestartAfterKill9, but K's fifth
// failure is sent after the last checkpoint and before the kill -9, and never again. Exactly its
// contribution is lost: K's alert (which needed it) is not made, every other alert is.
//
// Which checkpoint is the last is decided by the collector's 200ms ticker, so the test makes sure of
// it: it sends the lost record once everything before it was written, kills as soon as the record has
// passed through, and checks that the checkpoint file did not change between the two. Should a
// checkpoint have slipped in (a very slow machine), that attempt proves nothing and is made again
// from scratch.
func TestRestartAfterKill9LosesOnlyWhatFollowedTheCheckpoint(t *testing.T) {
	rs, whole := startRestartScenario(t)

	var (
		sink *otlpSink
		dir  string
		sent int
	)
	for attempt := 1; ; attempt++ {
		sink, dir = startOTLPSink(t), t.TempDir()
		c := startRestartCollector(t, sink, dir, "200ms")
		sent = c.send(t, rs, firstHalf)
		awaitProcessed(t, "first half", sink, sent, len(rs.alerts(firstHalf)))
		file := checkpointFile(t, dir)
		before := awaitQuiet(t, file, time.Second, 10*time.Second) // everything before was written
		sent += c.send(t, rs, lostPart)
		awaitProcessed(t, "lost part", sink, sent, len(rs.alerts(firstHalf, lostPart)))
		c.kill(t)
		if bytes.Equal(before, readFile(t, file)) {
			break
		}
		if attempt == 5 {
			t.Fatal("in 5 attempts a checkpoint was always written between the lost record and the kill")
		}
		t.Logf("attempt %d: a checkpoint was written between the lost record and the kill; again", attempt)
	}

	c := startRestartCollector(t, sink, dir, "200ms")
	c.requireLog(t, "state restored from checkpoint")
	sent += c.send(t, rs, secondHalf)

	finish(t, sink, sent, rs.alerts(firstHalf, secondHalf), whole, rs)
	// Against the uninterrupted run: the same alerts but K's.
	wholeAlerts, _, _ := whole.sink.snapshot()
	var wholeButK []alertKey
	for _, k := range keys(wholeAlerts) {
		if k.IpAddress != lostAddr {
			wholeButK = append(wholeButK, k)
		}
	}
	if len(wholeButK) != len(wholeAlerts)-1 {
		t.Errorf("the uninterrupted run made %d alerts for K, want 1", len(wholeAlerts)-len(wholeButK))
	}
	splitAlerts, _, _ := sink.snapshot()
	assertAlertSet(t, "restarted run against the uninterrupted run without K", splitAlerts, wholeButK)
	c.checkStateErrors(t, 0)
}

// TestCorruptCheckpointAtStart: a checkpoint made by a clean stop after the first half is damaged, or
// made under another configuration; a collector started on it reports it (log, state_errors),
// starts empty and processes the whole scenario normally: all eight alerts, which also shows that
// nothing of the old state was used (D's and F's alerts, made before the stop, are made again).
func TestCorruptCheckpointAtStart(t *testing.T) {
	testDamagedCheckpoint(t, []damage{{
		// The journal inside the storage file is damaged (every copy bbolt keeps of every chunk, live
		// or freed): the file opens, the chunks' CRCs do not match.
		name: "corrupt_journal",
		file: func(b []byte) []byte {
			b = bytes.Clone(b)
			for i := 0; ; {
				j := bytes.Index(b[i:], []byte(journalMagic))
				if j < 0 {
					return b
				}
				i += j + len(journalMagic)
				if i+12 < len(b) {
					b[i+12] ^= 0xff
				}
			}
		},
	}, {
		// A checkpoint made under another configuration (window) is incompatible.
		name:   "another_window",
		window: "23h",
	}})
}

// TestCorruptCheckpointFileAtStart: the same when the file file_storage keeps the checkpoint in is
// itself damaged, as README's "What survives what" promises for a corrupt or truncated checkpoint:
// reported, ignored, never a crash. (With file_storage v0.165.1 the garbage file makes
// GetClient fail, which the processor returns from Start, so the collector refuses to start; the
// truncated file makes bbolt fault on its mmap (SIGBUS) while file_storage opens it.)
func TestCorruptCheckpointFileAtStart(t *testing.T) {
	testDamagedCheckpoint(t, []damage{{
		// Garbage: bbolt cannot open it.
		name: "garbage_file",
		file: func(b []byte) []byte { return bytes.Repeat([]byte("garbage!"), len(b)/8) },
	}})
	// Not tested: a file cut short after its meta pages makes file_storage's database library fault
	// in a goroutine of its own while opening it, which no component can catch (README, "What
	// survives what": remove the damaged file).
}

// journalMagic starts every journal chunk of a checkpoint (internal/checkpoint/store.go).
const journalMagic = "AHLCJRNL"

// damage is one way to spoil a good checkpoint.
type damage struct {
	name   string
	file   func([]byte) []byte // rewrites the storage file's bytes
	window string              // the processor's window when it starts on it ("" the default)
}

// testDamagedCheckpoint makes one good checkpoint (a clean stop after the first half) and, for every
// damage in a storage directory of its own, starts a collector on a spoilt copy of it.
func testDamagedCheckpoint(t *testing.T, damages []damage) {
	t.Helper()
	collectorBinary(t)
	rs := buildRestartScenario(time.Now().UTC())
	rs.checkCut(t)

	good := t.TempDir()
	{
		sink := startOTLPSink(t)
		c := startRestartCollector(t, sink, good, "1h")
		sent := c.send(t, rs, firstHalf, lostPart)
		awaitProcessed(t, "first half", sink, sent, len(rs.alerts(firstHalf, lostPart)))
		c.stop(t)
	}
	goodFile := checkpointFile(t, good)
	goodBytes := readFile(t, goodFile)
	goodBases := goodFile + "_bases"
	goodBasesBytes := readFile(t, goodBases)
	if !bytes.Contains(goodBytes, []byte(journalMagic)) {
		t.Fatalf("the checkpoint file holds no journal (magic %s)", journalMagic)
	}

	for _, d := range damages {
		t.Run(d.name, func(t *testing.T) {
			dir := t.TempDir()
			data := goodBytes
			if d.file != nil {
				data = d.file(goodBytes)
			}
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(goodFile)), data, 0o600); err != nil {
				t.Fatal(err)
			}
			// The bases' file as it was: only the damage under test is there.
			if err := os.WriteFile(filepath.Join(dir, filepath.Base(goodBases)), goodBasesBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			window := "24h"
			if d.window != "" {
				window = d.window
			}
			sink := startOTLPSink(t)
			c := startRestartCollectorWith(t, restartParams{Sink: sink.endpoint, StateDir: dir, Interval: "1h", Window: window})
			c.requireLog(t, "starting with empty state")
			if strings.Contains(c.log(), "state restored from checkpoint") {
				t.Errorf("the damaged checkpoint was restored")
			}
			c.checkStateErrors(t, 1)
			sent := c.send(t, rs, everyPart...)
			want := rs.alerts(everyPart...)
			awaitSink(t, d.name, sink, sent, len(want))
			alerts, _, passed := sink.snapshot()
			if len(passed) != sent {
				t.Errorf("%d of %d records passed through", len(passed), sent)
			}
			assertAlertSet(t, d.name, alerts, want)
			c.stop(t)
		})
	}
}

// TestAlertNotRepeatedAfterKill9: a logon and five failures, then the sixth failure alerts, and the
// collector is killed at once (checkpoint_interval is an hour: no periodic checkpoint is written).
// The batch that carried the alert wrote the journal before it left the processor, so after the
// restart the seventh failure does not alert again; the other table's burst still alerts, because
// the logon, waiting for it, was restored.
func TestAlertNotRepeatedAfterKill9(t *testing.T) {
	collectorBinary(t)
	const addr = "198.51.100.77"
	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	logon := hostLogon{source: "SecurityEvent", computer: "WIN-DUP01.corp.example.com", at: at.Add(-time.Minute), via: otlpGRPC,
		eventID: 4624, logonType: 10, addr: addr, account: `CORP\dana`}
	var s scenario
	s.failures(signinThreshold+2, signinLogs, addr, "50126", at, sentinelAttributes, otlpGRPC)
	s.failures(signinThreshold+1, nonInteractive, addr, "50126", at, sentinelAttributes, otlpGRPC)
	send := func(c restartCollector, sis []signIn) int {
		n := 0
		for _, si := range sis {
			n += sendOTLPGRPC(t, c.endpoint, si.appendTo)
		}
		return n
	}

	sink, dir := startOTLPSink(t), t.TempDir()
	c := startRestartCollector(t, sink, dir, "1h")
	sent := sendOTLPGRPC(t, c.endpoint, logon.appendTo)
	sent += send(c, s.signIns[:signinThreshold])
	awaitProcessed(t, "the logon and five failures", sink, sent, 0)
	sent += send(c, s.signIns[signinThreshold:signinThreshold+1])
	awaitProcessed(t, "the sixth failure", sink, sent, 1)
	c.kill(t)

	c = startRestartCollector(t, sink, dir, "1h")
	c.requireLog(t, "state restored from checkpoint")
	sent += send(c, s.signIns[signinThreshold+1:])
	awaitSink(t, "after the restart", sink, sent, 2)
	alerts, _, passed := sink.snapshot()
	if len(passed) != sent {
		t.Errorf("%d of %d records passed through", len(passed), sent)
	}
	assertAlertSet(t, "across kill -9", alerts, []alertKey{
		{addr, logon.computer, signinLogs, "SecurityEvent"},
		{addr, logon.computer, nonInteractive, "SecurityEvent"},
	})
	c.checkStateErrors(t, 0)
}
