// Package redistest runs a real redis-server for tests: on a free loopback port, in a temporary
// directory, with no persistence. A test that needs it fails (never skips) when the redis-server
// binary is missing: install the Debian package redis-server. The tests that use it carry the build
// tag redis (make test sets it), so that plain `go test ./...` needs nothing but Go.
package redistest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server process owned by a test.
type Server struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	tls  *tls.Config // nil: plain TCP
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a redis-server for the test and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := newServer(t)
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// StartTLS runs a redis-server that only speaks TLS, with a certificate for 127.0.0.1 signed by a
// CA of the test's own, and returns it with the CA's PEM file.
func StartTLS(t testing.TB) (*Server, string) {
	t.Helper()
	s := newServer(t)
	caFile := s.writeCertificates()
	s.Restart()
	t.Cleanup(s.Stop)
	return s, caFile
}

func newServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not found (%v): these tests need a real Redis; install the redis-server package (apt-get install -y redis-server)", err)
	}
	return &Server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
}

// writeCertificates writes a CA and a server certificate for 127.0.0.1 into the server's folder and
// sets the client TLS configuration Do uses; it returns the CA's file.
func (s *Server) writeCertificates() string {
	s.t.Helper()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			s.t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		path := filepath.Join(s.dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			s.t.Fatal(err)
		}
		return path
	}
	caKey, srvKey := key(), key()
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redistest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		s.t.Fatal(err)
	}
	srvKeyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		s.t.Fatal(err)
	}
	caFile := write("ca.pem", "CERTIFICATE", caDER)
	write("server.pem", "CERTIFICATE", srvDER)
	write("server.key", "EC PRIVATE KEY", srvKeyDER)
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	s.tls = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return caFile
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Running reports whether the server process is up.
func (s *Server) Running() bool { return s.cmd != nil }

// Stop kills the server (its data is lost: there is no persistence). Stopping a stopped server
// does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// Restart starts the server again on the same port, empty, and waits until it answers.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", filepath.Join(s.dir, "redis.log")}
	if s.tls != nil {
		args = append(args, "--port", "0", "--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", filepath.Join(s.dir, "server.pem"), "--tls-key-file", filepath.Join(s.dir, "server.key"),
			"--tls-ca-cert-file", filepath.Join(s.dir, "ca.pem"), "--tls-auth-clients", "no")
	}
	s.cmd = exec.Command(s.bin, args...)
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	s.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(s.cmd, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := s.Do("PING"); err == nil {
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			s.t.Fatalf("redis-server on %s did not answer within 10s; its log:\n%s", s.Addr(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Do sends one command over a fresh connection and returns the reply, flattened to text: a
// simple or bulk string as is, an integer in decimal, an array as its lines. It needs no client
// library, so a test can inspect the server independently of the code under test.
func (s *Server) Do(args ...string) (string, error) { return s.DoIn(0, args...) }

// DoIn is Do in database db: the fresh connection selects db first.
func (s *Server) DoIn(db int, args ...string) (string, error) {
	var conn net.Conn
	var err error
	if s.tls != nil {
		conn, err = tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", s.Addr(), s.tls)
	} else {
		conn, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	}
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	write := func(args ...string) {
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
	}
	if db != 0 {
		write("SELECT", strconv.Itoa(db))
	}
	write(args...)
	if _, err := conn.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(conn)
	var out []string
	if db != 0 {
		if err := readReply(r, &out); err != nil {
			return "", fmt.Errorf("SELECT %d: %w", db, err)
		}
		out = out[:0]
	}
	if err := readReply(r, &out); err != nil {
		return "", err
	}
	return strings.Join(out, "\n"), nil
}

func readReply(r *bufio.Reader, out *[]string) error {
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return fmt.Errorf("empty reply line")
	}
	switch line[0] {
	case '+', ':':
		*out = append(*out, line[1:])
	case '-':
		return fmt.Errorf("redis: %s", line[1:])
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return err
		}
		*out = append(*out, string(buf[:n]))
	case '*':
		n, _ := strconv.Atoi(line[1:])
		for i := 0; i < n; i++ {
			if err := readReply(r, out); err != nil {
				return err
			}
		}
	default:
		return fmt.Errorf("unexpected reply %q", line)
	}
	return nil
}

// Keys returns the keys that start with prefix.
func (s *Server) Keys(prefix string) []string {
	s.t.Helper()
	return s.KeysIn(0, prefix)
}

// KeysIn returns the keys of database db that start with prefix.
func (s *Server) KeysIn(db int, prefix string) []string {
	s.t.Helper()
	out, err := s.DoIn(db, "KEYS", prefix+"*")
	if err != nil {
		s.t.Fatalf("KEYS in db %d: %v", db, err)
	}
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

// CommandStat is what the server counted for one command since it started.
type CommandStat struct {
	Calls int
	Usec  int // CPU time in the command, scripts' own commands included for EVAL/EVALSHA
}

// CommandStats returns the server's counts per command (INFO commandstats), e.g. stats["evalsha"].
func (s *Server) CommandStats() map[string]CommandStat {
	s.t.Helper()
	out, err := s.Do("INFO", "commandstats")
	if err != nil {
		s.t.Fatalf("INFO commandstats: %v", err)
	}
	stats := map[string]CommandStat{}
	for _, line := range strings.Split(out, "\r\n") {
		// cmdstat_evalsha:calls=3,usec=120,usec_per_call=40.00,...
		name, fields, ok := strings.Cut(line, ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var st CommandStat
		for _, f := range strings.Split(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			n, _ := strconv.Atoi(v)
			switch k {
			case "calls":
				st.Calls = n
			case "usec":
				st.Usec = n
			}
		}
		stats[strings.TrimPrefix(name, "cmdstat_")] = st
	}
	return stats
}

// Scripts returns how many scripts (EVAL and EVALSHA) the server ran since it started.
func (s *Server) Scripts() int {
	st := s.CommandStats()
	return st["eval"].Calls + st["evalsha"].Calls
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}
