//go:build e2e

package e2e_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// gateway is one collector running examples/fleet-redis.yaml.
type gateway struct {
	grpc    string // OTLP/gRPC endpoint
	metrics int    // port of its own Prometheus metrics
	dir     string // its config and log
}

// startGateway runs the shipped fleet example with its environment pointing at the test's Redis,
// key prefix and sink. The config is copied to a folder of its own, where the collector's log goes.
func startGateway(t *testing.T, redisAddr, keyPrefix, sink string) gateway {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "fleet-redis.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	g := gateway{grpc: fmt.Sprintf("127.0.0.1:%d", freePort(t)), metrics: freePort(t), dir: t.TempDir()}
	config := filepath.Join(g.dir, "fleet-redis.yaml")
	if err := os.WriteFile(config, src, 0o600); err != nil {
		t.Fatal(err)
	}
	health := freePort(t)
	// The collector inherits the environment when it starts; each gateway gets its own ports.
	for k, v := range map[string]string{
		"OTLP_GRPC_ENDPOINT": g.grpc,
		"OTLP_HTTP_ENDPOINT": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"REDIS_ENDPOINT":     redisAddr,
		"REDIS_KEY_PREFIX":   keyPrefix,
		"LOGS_ENDPOINT":      sink,
		"LOGS_INSECURE":      "true",
		"HEALTH_ENDPOINT":    fmt.Sprintf("127.0.0.1:%d", health),
		"METRICS_HOST":       "127.0.0.1",
		"METRICS_PORT":       strconv.Itoa(g.metrics),
		"STATE_DIR":          filepath.Join(g.dir, "state"), // the export queue: one per gateway
	} {
		t.Setenv(k, v)
	}
	startCollector(t, config, health)
	return g
}

// stateErrors reads the gateway's otelcol_processor_aadhostlogincorrelation_state_errors.
func (g gateway) stateErrors(t *testing.T) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", g.metrics))
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^otelcol_processor_aadhostlogincorrelation_state_errors(?:_total)?\{[^}]*\} (\d+)`).FindAllSubmatch(body, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	return total
}

// fleetRecords renders every record of the scenario as one OTLP record, in the order the scenario
// test sends them (E's logon first, then the sign-ins, then the other logons and the noise). Syslog
// logons take the shape the syslog receiver gives them.
func fleetRecords(s *scenario) []func(plog.LogRecordSlice) {
	var out []func(plog.LogRecordSlice)
	for _, l := range s.logons {
		if l.source == "WindowsEvent" {
			out = append(out, l.appendTo)
		}
	}
	for _, si := range s.signIns {
		out = append(out, si.appendTo)
	}
	for _, l := range s.logons {
		switch l.source {
		case "WindowsEvent":
		case "Syslog":
			out = append(out, l.syslogReceiverRecord)
		default:
			out = append(out, l.appendTo)
		}
	}
	for _, lines := range s.noise {
		for _, text := range lines {
			out = append(out, func(lrs plog.LogRecordSlice) { lrs.AppendEmpty().Body().SetStr(text) })
		}
	}
	return out
}

// syslogReceiverRecord is the record the syslog receiver makes of the logon's line.
func (l hostLogon) syslogReceiverRecord(lrs plog.LogRecordSlice) {
	l.syslog(shapes.SyslogReceiver5424).Fill(lrs.AppendEmpty())
}

// sendRoundRobin sends each record in its own OTLP/gRPC request, to the gateways in turn.
func sendRoundRobin(t *testing.T, gateways []gateway, records []func(plog.LogRecordSlice)) int {
	t.Helper()
	sent := 0
	for i, fill := range records {
		sent += sendOTLPGRPC(t, gateways[i%len(gateways)].grpc, fill)
	}
	return sent
}

// awaitSink waits until sink holds sent pass-through records and at least alerts alerts, then a
// little longer so that an extra alert would be seen.
func awaitSink(t *testing.T, what string, sink *otlpSink, sent, alerts int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _, passed := sink.snapshot()
		if len(passed) >= sent && len(got) >= alerts {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s after 30s: %d of %d records passed through, %d of %d alerts", what, len(passed), sent, len(got), alerts)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
}

// TestFleetSharesStateInRedis runs two gateways of examples/fleet-redis.yaml on one real Redis and
// sends them the scenario's records round-robin, one record per request: every alert is made exactly
// once between them, and they are a single gateway's alerts and the model's. Then Redis stops: records
// keep passing, the failures are counted; it restarts (empty): correlation resumes.
func TestFleetSharesStateInRedis(t *testing.T) {
	collectorBinary(t)
	srv := redistest.Start(t)
	now := time.Now().UTC()
	s := buildScenario(now)
	want := s.expectedAlerts()
	records := fleetRecords(s)

	single := startOTLPSink(t)
	one := startGateway(t, srv.Addr(), "single:", single.endpoint)
	sent := sendRoundRobin(t, []gateway{one}, records)
	awaitSink(t, "single gateway", single, sent, len(want))

	fleetSink := startOTLPSink(t)
	fleet := []gateway{
		startGateway(t, srv.Addr(), "fleet:", fleetSink.endpoint),
		startGateway(t, srv.Addr(), "fleet:", fleetSink.endpoint),
	}
	sent = sendRoundRobin(t, fleet, records)
	awaitSink(t, "fleet", fleetSink, sent, len(want))

	singleAlerts, _, singlePassed := single.snapshot()
	fleetAlerts, _, fleetPassed := fleetSink.snapshot()
	if len(singlePassed) != sent || len(fleetPassed) != sent {
		t.Errorf("records passed through: single %d, fleet %d, want %d each", len(singlePassed), len(fleetPassed), sent)
	}
	assertAlertSet(t, "single gateway", singleAlerts, want)
	assertAlertSet(t, "fleet of two", fleetAlerts, want)
	var singleKeys []alertKey
	for _, a := range singleAlerts {
		singleKeys = append(singleKeys, keyOf(a))
	}
	assertAlertSet(t, "fleet of two against the single gateway", fleetAlerts, singleKeys)
	for _, a := range fleetAlerts {
		checkAlertAttributes(t, s, a, now)
	}
	if t.Failed() {
		return
	}

	// Redis stops: an attack's records pass through both gateways uncorrelated, every batch fails
	// at most at the timeout, and the failures are counted.
	srv.Stop()
	attack := func(addr string, at time.Time) []func(plog.LogRecordSlice) {
		var a scenario
		a.failures(signinThreshold+1, signinLogs, addr, "50126", at, sentinelAttributes, otlpGRPC)
		var out []func(plog.LogRecordSlice)
		for _, si := range a.signIns {
			out = append(out, si.appendTo)
		}
		logon := hostLogon{source: "Syslog", computer: "web09", at: at.Add(time.Minute), facility: "auth", process: "sshd", pid: 99,
			message: shapes.SSHD{User: "zoe", Addr: addr, Port: 50000}.String()}
		return append(out, logon.syslogReceiverRecord)
	}
	before := len(fleetPassed)
	start := time.Now()
	sent = sendRoundRobin(t, fleet, attack("198.51.100.201", now.Add(-5*time.Minute)))
	awaitSink(t, "fleet with Redis down", fleetSink, before+sent, 0)
	alerts, _, passed := fleetSink.snapshot()
	if len(passed) != before+sent {
		t.Errorf("with Redis down %d of %d records passed through", len(passed)-before, sent)
	}
	if len(alerts) != len(fleetAlerts) {
		t.Errorf("with Redis down %d alerts were made", len(alerts)-len(fleetAlerts))
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("records took %v to pass with Redis down", took)
	}
	if errs := fleet[0].stateErrors(t) + fleet[1].stateErrors(t); errs == 0 {
		t.Error("no state_errors counted while Redis was down")
	}

	// Redis is back (empty): a new attack split between the gateways alerts once.
	srv.Restart()
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		addr := fmt.Sprintf("198.51.100.%d", 210+i)
		sendRoundRobin(t, fleet, attack(addr, now.Add(-4*time.Minute)))
		time.Sleep(700 * time.Millisecond)
		alerts, _, _ = fleetSink.snapshot()
		if len(alerts) > len(fleetAlerts) {
			for _, a := range alerts[len(fleetAlerts):] {
				if k := keyOf(a); k.Computer != "web09" || k.SigninTable != signinLogs {
					t.Errorf("unexpected alert after the restart: %v", k)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("correlation did not resume within 20s of Redis coming back")
		}
	}
	time.Sleep(1500 * time.Millisecond)
	alerts, _, _ = fleetSink.snapshot()
	seen := map[alertKey]int{}
	for _, a := range alerts[len(fleetAlerts):] {
		k := keyOf(a)
		if seen[k]++; seen[k] > 1 {
			t.Errorf("alert %v made twice after the restart", k)
		}
	}
}
