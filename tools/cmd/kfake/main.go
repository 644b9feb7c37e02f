// Command kfake runs a Kafka-protocol broker on loopback for the end-to-end tests, and produces
// messages to it, so that a test reaches the collector's Kafka receiver over real TCP with no Kafka
// client library of its own.
//
// The broker is franz-go's kfake cluster (topics, partitions, consumer groups, SASL, TLS) in a process
// of its own. Apache Kafka itself is not used: it needs a JVM and artifacts this project's machines
// cannot fetch, and kfake is what the collector's Kafka receiver is itself tested against.
//
//	kfake serve -port 0 -topic insights-logs-signinlogs:4 \
//	    -sasl-user '$ConnectionString' -sasl-password-env EVENTHUBS_CONNECTION_STRING \
//	    -tls-self-signed ca.pem
//
// prints "listening 127.0.0.1:PORT" once per broker when it accepts connections, and runs until
// SIGTERM or SIGINT. With -tls-self-signed the brokers speak TLS with a certificate made at start for
// 127.0.0.1, written to the file named so that clients can trust it (their CA file).
//
//	kfake produce -broker 127.0.0.1:PORT -topic insights-logs-signinlogs [same -sasl-*/-tls-ca flags] < messages
//
// sends each non-empty line of its standard input as one message (all of them before it exits, in
// order, to one partition when -partition is given) and prints how many it sent.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:], os.Stdout, stopSignal())
	case "produce":
		err = produce(os.Args[2:], os.Stdin, os.Stdout)
	default:
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfake:", err)
		os.Exit(1)
	}
}

const usage = `usage: kfake serve [-port N] [-brokers N] [-topic NAME[:PARTITIONS]]... [-sasl-user U -sasl-password-env VAR] [-tls-self-signed CAFILE] [-log-level L]
       kfake produce -broker HOST:PORT -topic NAME [-partition N] [-key K] [-sasl-user U -sasl-password-env VAR] [-tls-ca F] < one message a line`

// stopSignal is closed on SIGTERM or SIGINT.
func stopSignal() <-chan struct{} {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	stop := make(chan struct{})
	go func() {
		<-sigs
		close(stop)
	}()
	return stop
}

// saslFlags are the SASL PLAIN credentials both subcommands take. The password comes from an
// environment variable, as a connection string should: never on a command line that ps shows.
type saslFlags struct {
	user, passwordEnv string
}

func (s *saslFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.user, "sasl-user", "", "SASL PLAIN user name (Event Hubs: $ConnectionString); empty: no SASL")
	fs.StringVar(&s.passwordEnv, "sasl-password-env", "", "environment variable holding the SASL PLAIN password")
}

// credentials returns the user and password, or ok=false when SASL is off.
func (s *saslFlags) credentials() (user, password string, ok bool, err error) {
	if s.user == "" {
		if s.passwordEnv != "" {
			return "", "", false, errors.New("-sasl-password-env without -sasl-user")
		}
		return "", "", false, nil
	}
	if s.passwordEnv == "" {
		return "", "", false, errors.New("-sasl-user needs -sasl-password-env")
	}
	password, set := os.LookupEnv(s.passwordEnv)
	if !set || password == "" {
		return "", "", false, fmt.Errorf("-sasl-password-env %s: the variable is not set or empty", s.passwordEnv)
	}
	return s.user, password, true, nil
}

// topicFlag is a repeatable -topic NAME[:PARTITIONS].
type topicFlag []topicSpec

type topicSpec struct {
	name       string
	partitions int32
}

func (t *topicFlag) String() string { return fmt.Sprint(*t) }

func (t *topicFlag) Set(v string) error {
	name, parts, hasParts := strings.Cut(v, ":")
	if name == "" {
		return fmt.Errorf("topic %q: empty name", v)
	}
	spec := topicSpec{name: name, partitions: 1}
	if hasParts {
		n, err := strconv.ParseInt(parts, 10, 32)
		if err != nil || n < 1 {
			return fmt.Errorf("topic %q: partitions must be a number of 1 or more", v)
		}
		spec.partitions = int32(n)
	}
	*t = append(*t, spec)
	return nil
}

// serve runs a cluster until stop is closed. It writes "listening HOST:PORT" for every broker to out
// once the cluster accepts connections.
func serve(args []string, out io.Writer, stop <-chan struct{}) error {
	fs := flag.NewFlagSet("kfake serve", flag.ContinueOnError)
	port := fs.Int("port", 0, "loopback port of the first broker (0: any free port)")
	brokers := fs.Int("brokers", 1, "number of brokers (the others take free ports)")
	logLevel := fs.String("log-level", "none", "none, error, warn, info or debug (to standard error)")
	tlsCA := fs.String("tls-self-signed", "", "speak TLS with a certificate for 127.0.0.1 made at start, written (PEM) to this file")
	var topics topicFlag
	fs.Var(&topics, "topic", "topic to create, NAME[:PARTITIONS] (repeatable; default 1 partition)")
	var sasl saslFlags
	sasl.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("serve: unexpected arguments %q", fs.Args())
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("-port %d: not a port", *port)
	}
	if *brokers < 1 {
		return fmt.Errorf("-brokers %d: must be 1 or more", *brokers)
	}
	level, err := parseLogLevel(*logLevel)
	if err != nil {
		return err
	}

	ports := make([]int, *brokers) // kfake listens on 127.0.0.1; port 0 picks a free one
	ports[0] = *port
	opts := []kfake.Opt{
		kfake.Ports(ports...),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, level)),
	}
	for _, t := range topics {
		opts = append(opts, kfake.SeedTopics(t.partitions, t.name))
	}
	user, password, saslOn, err := sasl.credentials()
	if err != nil {
		return err
	}
	if saslOn {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser("PLAIN", user, password))
	}
	if *tlsCA != "" {
		cert, err := selfSignedLoopback(*tlsCA)
		if err != nil {
			return fmt.Errorf("-tls-self-signed %q: %w", *tlsCA, err)
		}
		opts = append(opts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}

	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		return err
	}
	defer cluster.Close()
	for _, addr := range cluster.ListenAddrs() {
		if _, err := fmt.Fprintln(out, "listening", addr); err != nil {
			return err
		}
	}
	<-stop
	return nil
}

// selfSignedLoopback makes a key and a self-signed certificate valid for 127.0.0.1 (and localhost) for
// a day, and writes the certificate to caFile in PEM.
func selfSignedLoopback(caFile string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	template := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

func parseLogLevel(s string) (kfake.LogLevel, error) {
	switch strings.ToLower(s) {
	case "none":
		return kfake.LogLevelNone, nil
	case "error":
		return kfake.LogLevelError, nil
	case "warn":
		return kfake.LogLevelWarn, nil
	case "info":
		return kfake.LogLevelInfo, nil
	case "debug":
		return kfake.LogLevelDebug, nil
	}
	return 0, fmt.Errorf("-log-level %q: want none, error, warn, info or debug", s)
}

// maxMessage is the longest line produce reads as one message: Event Hubs takes messages up to 1 MB
// (standard tier), and so does the broker by default.
const maxMessage = 1 << 20

// produce sends every non-empty line of in as one message and writes "produced N" to out.
func produce(args []string, in io.Reader, out io.Writer) error {
	fs := flag.NewFlagSet("kfake produce", flag.ContinueOnError)
	broker := fs.String("broker", "", "HOST:PORT of a broker (required)")
	topic := fs.String("topic", "", "topic to produce to (required)")
	partition := fs.Int("partition", -1, "partition to produce to (-1: the client's default partitioner)")
	key := fs.String("key", "", "message key (empty: none)")
	tlsCA := fs.String("tls-ca", "", "PEM CA certificate: connect with TLS and trust this CA")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	var sasl saslFlags
	sasl.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("produce: unexpected arguments %q", fs.Args())
	}
	if *broker == "" || *topic == "" {
		return errors.New("produce: -broker and -topic are required")
	}

	opts := []kgo.Opt{
		kgo.SeedBrokers(*broker),
		kgo.DefaultProduceTopic(*topic),
		kgo.ProducerBatchMaxBytes(maxMessage + 4096),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	}
	if *partition >= 0 {
		opts = append(opts, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	}
	user, password, saslOn, err := sasl.credentials()
	if err != nil {
		return err
	}
	if saslOn {
		opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: password}.AsMechanism()))
	}
	if *tlsCA != "" {
		caPEM, err := os.ReadFile(*tlsCA)
		if err != nil {
			return fmt.Errorf("-tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return fmt.Errorf("-tls-ca %q: no PEM certificate in it", *tlsCA)
		}
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return err
	}
	defer client.Close()

	var records []*kgo.Record
	scanner := bufio.NewScanner(in)
	scanner.Buffer(make([]byte, 64*1024), maxMessage)
	for scanner.Scan() {
		line := scanner.Bytes()
		if len(strings.TrimSpace(string(line))) == 0 {
			continue
		}
		r := &kgo.Record{Value: append([]byte(nil), line...), Partition: int32(*partition)}
		if *key != "" {
			r.Key = []byte(*key)
		}
		records = append(records, r)
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("reading messages: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	// A refused login or handshake is reported as such, rather than as a produce that timed out.
	if err := client.Ping(ctx); err != nil {
		return fmt.Errorf("connecting to %s: %w", *broker, err)
	}
	if err := client.ProduceSync(ctx, records...).FirstErr(); err != nil {
		return fmt.Errorf("producing to %s on %s: %w", *topic, *broker, err)
	}
	_, err = fmt.Fprintln(out, "produced", len(records))
	return err
}
