//go:build e2e

// Package e2e_test drives the built otelcol-aadhostlogin binary from outside, over real protocols.
// The binary is named by the environment variable OTELCOL_BIN (make test sets it). The package is a
// module of its own, built with the tag e2e, so that `go test ./...` at the repository root runs
// only the component's unit tests.
package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip by default
)

// TestMain fails the whole package, once and clearly, when there is no binary to test.
func TestMain(m *testing.M) {
	if os.Getenv("OTELCOL_BIN") == "" {
		fmt.Fprintln(os.Stderr, "FAIL: "+noBinary)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const noBinary = "OTELCOL_BIN is not set. These tests drive the built collector: run `make test`, or " +
	"`make build` and then, from the repository root, " +
	"`OTELCOL_BIN=$PWD/_build/otelcol-aadhostlogin go -C e2e test -tags e2e ./...`"

// collectorBinary returns the collector under test. Without it the tests fail: a skipped end-to-end
// test looks like a passing one.
func collectorBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("OTELCOL_BIN")
	if bin == "" {
		t.Fatal(noBinary)
	}
	info, err := os.Stat(bin)
	if err != nil {
		t.Fatalf("OTELCOL_BIN=%s: %v (run `make build`)", bin, err)
	}
	if info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("OTELCOL_BIN=%s is not an executable file", bin)
	}
	return bin
}

// repoRoot is where the example configs' relative paths start (go test runs in the package folder).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// runCollector runs the collector with args to completion (validate, or a start that must fail) and
// returns its combined output and exit error.
func runCollector(t *testing.T, timeout time.Duration, args ...string) (string, error) {
	t.Helper()
	return runCollectorEnv(t, timeout, nil, args...)
}

// runCollectorEnv is runCollector with variables (NAME=value) added to the environment.
func runCollectorEnv(t *testing.T, timeout time.Duration, env []string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, collectorBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = repoRoot(t)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("collector %v did not exit within %s; output:\n%s", args, timeout, out)
	}
	return string(out), err
}

// writeConfig renders a config template into a file of the test's temporary folder.
func writeConfig(t *testing.T, text string, data any) string {
	t.Helper()
	var b bytes.Buffer
	if err := template.Must(template.New("config").Option("missingkey=error").Parse(text)).Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// freePort returns a loopback TCP port nobody listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// freeUDPPort returns a loopback UDP port nobody listens on right now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// collector is a collector process started by startCollector.
type collector struct {
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{} // closed when the process has exited; err is then its exit error
	err     error
	ended   bool // the test stopped or killed it
}

// startCollector starts the collector with a config file and waits until its health_check extension
// on healthPort answers 200. Unless the test stopped or killed it, the collector is stopped with
// SIGTERM when the test ends; if the test failed its log is printed.
func startCollector(t *testing.T, configPath string, healthPort int) *collector {
	t.Helper()
	return startCollectorConfigs(t, healthPort, configPath)
}

// startCollectorConfigs is startCollector with several config files, merged by the collector in
// their order (a later file's maps are merged over the earlier ones', its lists replace theirs). The
// log goes to the folder of the last one.
func startCollectorConfigs(t *testing.T, healthPort int, configPaths ...string) *collector {
	t.Helper()
	return startCollectorEnv(t, healthPort, nil, configPaths...)
}

// startCollectorEnv is startCollectorConfigs with variables (NAME=value) added to the collector's
// environment, for configs that read ${env:NAME}.
func startCollectorEnv(t *testing.T, healthPort int, env []string, configPaths ...string) *collector {
	t.Helper()
	logPath := filepath.Join(filepath.Dir(configPaths[len(configPaths)-1]), "collector.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, path := range configPaths {
		args = append(args, "--config", path)
	}
	cmd := exec.Command(collectorBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = repoRoot(t)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the collector: %v", err)
	}
	c := &collector{cmd: cmd, logPath: logPath, exited: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		_ = logFile.Close()
		close(c.exited)
	}()

	dumpLog := func() { t.Logf("collector log (%s):\n%s", logPath, c.log()) }
	t.Cleanup(func() {
		select {
		case <-c.exited:
			if !c.ended {
				t.Errorf("collector exited by itself: %v", c.err)
			}
		default:
			c.stop(t)
		}
		if t.Failed() {
			dumpLog()
		}
	})

	health := fmt.Sprintf("http://127.0.0.1:%d/", healthPort)
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-c.exited:
			c.ended = true // reported here; the cleanup prints the log
			t.Fatalf("collector exited during start: %v", c.err)
		default:
		}
		if resp, err := http.Get(health); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("collector not healthy on %s after 60s", health)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the collector to exit; an exit status other than 0 fails the test.
func (c *collector) stop(t *testing.T) {
	t.Helper()
	c.ended = true
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		if c.err != nil {
			t.Errorf("collector did not exit cleanly on SIGTERM: %v", c.err)
		}
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.exited
		t.Errorf("collector did not stop within 20s of SIGTERM; killed: %v", c.err)
	}
}

// kill kills the collector with SIGKILL (no shutdown of any kind) and waits until it is gone.
func (c *collector) kill(t *testing.T) {
	t.Helper()
	c.ended = true
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatalf("kill -9: %v", err)
	}
	<-c.exited
}

// log returns what the collector has written to its log so far.
func (c *collector) log() string {
	b, _ := os.ReadFile(c.logPath)
	return string(b)
}

// otlpSink is a real OTLP/gRPC logs server on loopback that records every batch it is sent: the
// backend the collector's otlp exporter delivers to.
type otlpSink struct {
	plogotlp.UnimplementedGRPCServer
	endpoint string

	mu      sync.Mutex
	records []plog.LogRecord
	scopes  []string // scopes[i] is the scope name of records[i]
}

func startOTLPSink(t *testing.T) *otlpSink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &otlpSink{endpoint: l.Addr().String()}
	srv := grpc.NewServer()
	plogotlp.RegisterGRPCServer(srv, s)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return s
}

// Export implements plogotlp.GRPCServer.
func (s *otlpSink) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	ld := plog.NewLogs()
	req.Logs().CopyTo(ld)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				s.records = append(s.records, lr)
				s.scopes = append(s.scopes, sl.Scope().Name())
			}
		}
	}
	return plogotlp.NewExportResponse(), nil
}

// snapshot returns the records received so far, split into alerts (with their scope names) and
// everything else.
func (s *otlpSink) snapshot() (alerts []plog.LogRecord, alertScopes []string, others []plog.LogRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, lr := range s.records {
		if isAlert(lr) {
			alerts = append(alerts, lr)
			alertScopes = append(alertScopes, s.scopes[i])
		} else {
			others = append(others, lr)
		}
	}
	return alerts, alertScopes, others
}

// alertBody is the body (and Reason) of every alert of the seed rule ("Failed AzureAD logons but
// success logon to host") and of "Failed AzureAD logons but success logon to AWS Console";
// reverseAlertBody is that of "Failed host logons but success logon to AzureAD", consoleAlertBody
// that of "Failed AWS Console logons but success logon to AzureAD".
const (
	alertBody        = "Multiple failed AAD logins from IP address"
	reverseAlertBody = "Multiple failed host logins from IP address with successful Azure AD login"
	consoleAlertBody = "Multiple failed AWS Console logins from IP address"
)

// isAlert reports whether a record is an alert of a rule: its body is the rule's Reason, and so is
// its Reason attribute.
func isAlert(lr plog.LogRecord) bool {
	reason, ok := lr.Attributes().Get("Reason")
	body := lr.Body().AsString()
	return (body == alertBody || body == reverseAlertBody || body == consoleAlertBody) && ok && reason.AsString() == body
}

// attr returns a record attribute as a string ("" when absent).
func attr(lr plog.LogRecord, key string) string {
	v, ok := lr.Attributes().Get(key)
	if !ok {
		return ""
	}
	return v.AsString()
}

// shortHost is a host name up to its first dot.
func shortHost(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 {
		return name[:i]
	}
	return name
}
