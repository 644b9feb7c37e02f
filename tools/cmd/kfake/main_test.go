package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

const (
	testUser     = "$ConnectionString"
	testPassword = "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=c2VjcmV0"
)

// startServe runs serve with args in the background and returns the broker's address; the broker
// stops when the test ends.
func startServe(t *testing.T, args ...string) string {
	t.Helper()
	stop := make(chan struct{})
	done := make(chan error, 1)
	r, w := io.Pipe()
	go func() {
		err := serve(args, w, stop)
		_ = w.CloseWithError(err)
		done <- err
	}()
	t.Cleanup(func() {
		close(stop)
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("serve %v printed no address: %v", args, err)
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	if !ok {
		t.Fatalf("serve printed %q, want \"listening HOST:PORT\"", line)
	}
	return addr
}

// consume reads n messages of topic from the start with a consumer group, as the collector's Kafka
// receiver does, and returns their values and partitions.
func consume(t *testing.T, addr, topic, caFile string, n int) (values []string, partitions []int32) {
	t.Helper()
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	client, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.ConsumerGroup("test-group"),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SASL(plain.Auth{User: testUser, Pass: testPassword}.AsMechanism()),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for len(values) < n {
		fetches := client.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d messages: %v", len(values), n, err)
		}
		fetches.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		fetches.EachRecord(func(r *kgo.Record) {
			values = append(values, string(r.Value))
			partitions = append(partitions, r.Partition)
		})
	}
	return values, partitions
}

// The broker serves a topic with partitions over TLS and SASL PLAIN; produce sends each non-empty line
// as one message, byte for byte, to the partition asked for; a consumer group reads them back.
func TestServeAndProduce(t *testing.T) {
	t.Setenv("KFAKE_TEST_PASSWORD", testPassword)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	addr := startServe(t, "-topic", "insights-logs-signinlogs:3", "-topic", "other",
		"-sasl-user", testUser, "-sasl-password-env", "KFAKE_TEST_PASSWORD", "-tls-self-signed", caFile)

	messages := []string{`{"records":[{"category":"SignInLogs"}]}`, `  two words  `, "\xff\xfe not UTF-8"}
	in := strings.Join([]string{messages[0], "", messages[1], "   ", messages[2]}, "\n")
	var out bytes.Buffer
	err := produce([]string{"-broker", addr, "-topic", "insights-logs-signinlogs", "-partition", "2",
		"-sasl-user", testUser, "-sasl-password-env", "KFAKE_TEST_PASSWORD", "-tls-ca", caFile}, strings.NewReader(in), &out)
	if err != nil {
		t.Fatalf("produce: %v", err)
	}
	if got := out.String(); got != "produced 3\n" {
		t.Errorf("produce printed %q, want %q", got, "produced 3\n")
	}
	values, partitions := consume(t, addr, "insights-logs-signinlogs", caFile, 3)
	for i, want := range messages {
		if values[i] != want {
			t.Errorf("message %d = %q, want %q", i, values[i], want)
		}
		if partitions[i] != 2 {
			t.Errorf("message %d went to partition %d, want 2", i, partitions[i])
		}
	}
}

// A client with the wrong password, or without SASL or TLS, gets nothing in: its connection is refused.
func TestProduceRefusedWithoutTheCredentials(t *testing.T) {
	t.Setenv("KFAKE_TEST_PASSWORD", testPassword)
	t.Setenv("KFAKE_WRONG_PASSWORD", "Endpoint=sb://contoso.servicebus.windows.net/;SharedAccessKeyName=listen;SharedAccessKey=d3Jvbmc")
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	addr := startServe(t, "-topic", "hub", "-sasl-user", testUser, "-sasl-password-env", "KFAKE_TEST_PASSWORD", "-tls-self-signed", caFile)

	for name, args := range map[string][]string{
		"wrong password": {"-sasl-user", testUser, "-sasl-password-env", "KFAKE_WRONG_PASSWORD", "-tls-ca", caFile},
		"no SASL":        {"-tls-ca", caFile},
		"no TLS":         {"-sasl-user", testUser, "-sasl-password-env", "KFAKE_TEST_PASSWORD"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"-broker", addr, "-topic", "hub", "-timeout", "3s"}, args...)
			err := produce(args, strings.NewReader("m\n"), io.Discard)
			if err == nil {
				t.Fatalf("produce %v succeeded", args)
			}
			if !strings.Contains(err.Error(), "connecting to "+addr) {
				t.Errorf("produce %v: %v; want the connection refused, not a produce that failed", args, err)
			}
		})
	}
}

// Bad flags are refused with the flag and the value.
func TestBadFlags(t *testing.T) {
	t.Setenv("KFAKE_EMPTY", "")
	never := make(chan struct{})
	cases := []struct {
		name string
		run  func() error
		want string
	}{
		{"no partitions", func() error { return serve([]string{"-topic", "hub:0"}, io.Discard, never) }, `topic "hub:0"`},
		{"empty topic", func() error { return serve([]string{"-topic", ":3"}, io.Discard, never) }, `topic ":3"`},
		{"bad port", func() error { return serve([]string{"-port", "70000"}, io.Discard, never) }, "-port 70000"},
		{"log level", func() error { return serve([]string{"-log-level", "loud"}, io.Discard, never) }, `-log-level "loud"`},
		{"user without password", func() error { return serve([]string{"-sasl-user", "u"}, io.Discard, never) }, "-sasl-password-env"},
		{"empty password", func() error {
			return serve([]string{"-sasl-user", "u", "-sasl-password-env", "KFAKE_EMPTY"}, io.Discard, never)
		}, "KFAKE_EMPTY"},
		{"produce without topic", func() error { return produce([]string{"-broker", "127.0.0.1:1"}, strings.NewReader(""), io.Discard) }, "-topic"},
		{"missing CA file", func() error {
			return produce([]string{"-broker", "127.0.0.1:1", "-topic", "t", "-tls-ca", "/nonexistent/ca.pem"}, strings.NewReader(""), io.Discard)
		}, "-tls-ca"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %q", err, tc.want)
			}
		})
	}
}
