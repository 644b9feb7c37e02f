package main

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // the otlp exporter compresses with gzip by default
)

// alertScope is the instrumentation scope of the processor's alert records.
const alertScope = "github.com/secops-otel/aadhostlogincorrelation"

// sink is the backend the collector exports to: a real OTLP/gRPC logs server on loopback that
// counts records and alerts, and tells waiters when the alert for an address arrives.
type sink struct {
	plogotlp.UnimplementedGRPCServer
	endpoint string
	srv      *grpc.Server

	records atomic.Int64
	alerts  atomic.Int64

	mu      sync.Mutex
	waiters map[string]chan time.Time // IpAddress of an expected alert → arrival
}

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sink{endpoint: l.Addr().String(), srv: grpc.NewServer(), waiters: map[string]chan time.Time{}}
	plogotlp.RegisterGRPCServer(s.srv, s)
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *sink) stop() { s.srv.Stop() }

// Export implements plogotlp.GRPCServer.
func (s *sink) Export(_ context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	arrived := time.Now()
	ld := req.Logs()
	s.records.Add(int64(ld.LogRecordCount()))
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			if sl.Scope().Name() != alertScope {
				continue
			}
			s.alerts.Add(int64(sl.LogRecords().Len()))
			s.mu.Lock()
			if len(s.waiters) > 0 {
				for _, lr := range sl.LogRecords().All() {
					ip, _ := lr.Attributes().Get("IpAddress")
					if ch, ok := s.waiters[ip.AsString()]; ok {
						ch <- arrived
						delete(s.waiters, ip.AsString())
					}
				}
			}
			s.mu.Unlock()
		}
	}
	return plogotlp.NewExportResponse(), nil
}

// expect returns a channel that receives the arrival time of the first alert for ip.
func (s *sink) expect(ip string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	s.mu.Lock()
	s.waiters[ip] = ch
	s.mu.Unlock()
	return ch
}

func (s *sink) forget(ip string) {
	s.mu.Lock()
	delete(s.waiters, ip)
	s.mu.Unlock()
}

// settle waits until no record has arrived for quiet, or until limit.
func (s *sink) settle(quiet, limit time.Duration) {
	end := time.Now().Add(limit)
	last, lastChange := s.records.Load(), time.Now()
	for time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
		if n := s.records.Load(); n != last {
			last, lastChange = n, time.Now()
		} else if time.Since(lastChange) >= quiet {
			return
		}
	}
}
