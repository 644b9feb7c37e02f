//go:build e2e

package e2e_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const noKfake = "KFAKE_BIN is not set. The Kafka tests run the broker of tools/cmd/kfake as a process of their own: " +
	"run `make test`, or `make out/kfake` and then `KFAKE_BIN=$PWD/out/kfake OTELCOL_BIN=... go -C e2e test -tags e2e ./...`"

// kfakeBinary returns the Kafka-protocol broker the tests run (make test builds it). Without it the
// Kafka tests fail: a skipped end-to-end test looks like a passing one.
func kfakeBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("KFAKE_BIN")
	if bin == "" {
		t.Fatal(noKfake)
	}
	if info, err := os.Stat(bin); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		t.Fatalf("KFAKE_BIN=%s is not an executable file (%v); run `make out/kfake`", bin, err)
	}
	return bin
}

// The SASL PLAIN user of an Event Hubs namespace's Kafka endpoint, and the variable that holds the
// password (a connection string) for the example config, the broker and the producer alike.
const (
	eventHubsUser      = "$ConnectionString"
	eventHubsSecretEnv = "EVENTHUBS_CONNECTION_STRING"
)

// kafkaBroker is a kfake broker process on loopback that speaks TLS and requires SASL PLAIN, as an
// Event Hubs namespace's Kafka endpoint does.
type kafkaBroker struct {
	addr     string // 127.0.0.1:port
	caFile   string // the broker's certificate, for clients to trust
	password string // the connection string it accepts
}

// startKafka starts a broker with the topics (NAME or NAME:PARTITIONS) and waits until it listens; the
// broker is stopped when the test ends (its log is printed if the test failed).
func startKafka(t *testing.T, password string, topics ...string) *kafkaBroker {
	t.Helper()
	dir := t.TempDir()
	b := &kafkaBroker{caFile: filepath.Join(dir, "kafka-ca.pem"), password: password}
	args := []string{"serve", "-port", "0", "-log-level", "warn",
		"-sasl-user", eventHubsUser, "-sasl-password-env", eventHubsSecretEnv, "-tls-self-signed", b.caFile}
	for _, topic := range topics {
		args = append(args, "-topic", topic)
	}
	cmd := exec.Command(kfakeBinary(t), args...)
	cmd.Env = append(os.Environ(), eventHubsSecretEnv+"="+password)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("kfake did not exit cleanly on SIGTERM: %v", err)
			}
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("kfake did not stop within 10s of SIGTERM; killed: %v", <-exited)
		}
		if t.Failed() {
			t.Logf("kfake log:\n%s", stderr.String())
		}
	})

	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
	}()
	select {
	case line := <-lines:
		addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
		if !ok {
			t.Fatalf("kfake printed %q, want \"listening HOST:PORT\"; log:\n%s", line, stderr.String())
		}
		b.addr = addr
	case <-time.After(30 * time.Second):
		t.Fatalf("kfake did not listen within 30s; log:\n%s", stderr.String())
	}
	return b
}

// produce sends messages to a partition of a topic over TLS and SASL PLAIN, one message per line, in
// order, with the kfake command (the tests need no Kafka client library).
func (b *kafkaBroker) produce(t *testing.T, topic string, partition int, messages []string) {
	t.Helper()
	for i, m := range messages {
		if strings.ContainsAny(m, "\r\n") || strings.TrimSpace(m) == "" {
			t.Fatalf("message %d to %s is not one non-empty line: %q", i, topic, m)
		}
	}
	cmd := exec.Command(kfakeBinary(t), "produce", "-broker", b.addr, "-topic", topic, "-partition", strconv.Itoa(partition),
		"-sasl-user", eventHubsUser, "-sasl-password-env", eventHubsSecretEnv, "-tls-ca", b.caFile)
	cmd.Env = append(os.Environ(), eventHubsSecretEnv+"="+b.password)
	cmd.Stdin = strings.NewReader(strings.Join(messages, "\n") + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kfake produce to %s: %v\n%s", topic, err, out)
	}
	if want := fmt.Sprintf("produced %d\n", len(messages)); string(out) != want {
		t.Fatalf("kfake produce to %s printed %q, want %q", topic, out, want)
	}
}
