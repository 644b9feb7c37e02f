//go:build e2e

package e2e_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// otlpHTTPSink is a real OTLP/HTTP logs server on loopback (protobuf, gzip or not): the alert
// backend of examples/alert-only.yaml.
type otlpHTTPSink struct {
	srv *http.Server

	mu      sync.Mutex
	records []plog.LogRecord
}

// startOTLPHTTPSink starts serving on 127.0.0.1:port.
func startOTLPHTTPSink(t *testing.T, port int) *otlpHTTPSink {
	t.Helper()
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	s := &otlpHTTPSink{}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.export), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

func (s *otlpHTTPSink) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = gz
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(raw); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	for _, rl := range req.Logs().ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				s.records = append(s.records, lr)
			}
		}
	}
	s.mu.Unlock()
	resp, _ := plogotlp.NewExportResponse().MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

func (s *otlpHTTPSink) snapshot() []plog.LogRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]plog.LogRecord(nil), s.records...)
}

// alertsMade reads otelcol_processor_aadhostlogincorrelation_alerts from a collector's metrics.
func alertsMade(t *testing.T, metricsPort int) int {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", metricsPort))
	if err != nil {
		return 0
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	total := 0
	for _, m := range regexp.MustCompile(`(?m)^otelcol_processor_aadhostlogincorrelation_alerts(?:_total)?\{[^}]*\} (\d+)`).FindAllSubmatch(b, -1) {
		n, _ := strconv.Atoi(string(m[1]))
		total += n
	}
	return total
}

// TestAlertsSurviveBackendOutageAndRestart runs the shipped examples/alert-only.yaml with its alert
// backend (OTLP/HTTP) down: three attacks make three alerts, which wait in the exporter's persistent
// sending queue; the collector is killed (kill -9) and started again on the same storage; 30 s after
// the alerts were made the backend comes up. Every alert arrives, each exactly once, and every
// record reached the log backend.
func TestAlertsSurviveBackendOutageAndRestart(t *testing.T) {
	collectorBinary(t)
	src, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "alert-only.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := filepath.Join(dir, "alert-only.yaml")
	if err := os.WriteFile(config, src, 0o600); err != nil {
		t.Fatal(err)
	}
	alertsPort, metricsPort := freePort(t), freePort(t)
	overlay := writeConfig(t, `
service:
  telemetry:
    metrics:
      readers:
        - pull:
            exporter:
              prometheus:
                host: 127.0.0.1
                port: {{ . }}
`, metricsPort)
	logs := startOTLPSink(t)
	grpcEndpoint := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	health := freePort(t)
	env := []string{
		"OTLP_GRPC_ENDPOINT=" + grpcEndpoint,
		"OTLP_HTTP_ENDPOINT=" + fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"LOGS_ENDPOINT=" + logs.endpoint, "LOGS_INSECURE=true",
		"ALERTS_ENDPOINT=" + fmt.Sprintf("http://127.0.0.1:%d", alertsPort),
		"HEALTH_ENDPOINT=" + fmt.Sprintf("127.0.0.1:%d", health),
		"STATE_DIR=" + filepath.Join(dir, "state"),
	}

	at := time.Now().UTC().Add(-10 * time.Minute).Truncate(time.Second)
	var s scenario
	var want []alertKey
	var logons []hostLogon
	for i, addr := range []string{"198.51.100.61", "198.51.100.62", "203.0.113.63"} {
		s.failures(signinThreshold+1, signinLogs, addr, "50126", at, sentinelAttributes, otlpGRPC)
		l := hostLogon{source: "SecurityEvent", computer: fmt.Sprintf("WIN-Q%02d.corp.example.com", i), at: at.Add(time.Minute),
			via: otlpGRPC, eventID: 4624, logonType: 10, addr: addr, account: `CORP\erin`}
		logons = append(logons, l)
		want = append(want, alertKey{addr, l.computer, signinLogs, "SecurityEvent"})
	}

	c := startCollectorEnv(t, health, env, config, overlay)
	sent := 0
	for _, si := range s.signIns {
		sent += sendOTLPGRPC(t, grpcEndpoint, si.appendTo)
	}
	for _, l := range logons {
		sent += sendOTLPGRPC(t, grpcEndpoint, l.appendTo)
	}
	deadline := time.Now().Add(20 * time.Second)
	for alertsMade(t, metricsPort) < len(want) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts made after 20s", alertsMade(t, metricsPort), len(want))
		}
		time.Sleep(20 * time.Millisecond)
	}
	made := time.Now()
	time.Sleep(2 * time.Second) // the alerts are in the queue's storage (the exporter retries meanwhile)
	c.kill(t)

	startCollectorEnv(t, health, env, config, overlay)
	time.Sleep(time.Until(made.Add(30 * time.Second)))
	sink := startOTLPHTTPSink(t, alertsPort) // the alert backend is back
	deadline = time.Now().Add(60 * time.Second)
	for len(sink.snapshot()) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // an alert sent twice would arrive meanwhile
	alerts := sink.snapshot()
	assertAlertSet(t, "after the outage and the restart", alerts, want)
	awaitSink(t, "log backend", logs, sent, 0)
	if _, _, passed := logs.snapshot(); len(passed) != sent {
		t.Errorf("%d of %d records reached the log backend", len(passed), sent)
	}
}
