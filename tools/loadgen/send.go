// Package loadgen sends the realistic mix (internal/loadmix) to a collector over OTLP/gRPC at a
// chosen rate and concurrency, and reports what was sent.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
)

// Options say where to send, how much and how fast.
type Options struct {
	Endpoint    string        // OTLP/gRPC host:port (plaintext)
	Duration    time.Duration // stop starting batches after this long (0: no limit)
	Records     int64         // stop after this many records (0: no limit); Duration or Records is required
	BatchSize   int           // records per export request
	Concurrency int           // senders, each with its own connection and one request in flight
	Rate        float64       // records per second over all senders; 0 sends as fast as the endpoint answers
	AttackEvery int           // one attack per this many batches of a sender; 0 for none
	Gzip        bool          // compress requests
	Fresh       bool          // build every batch anew instead of sending a few again with new times and addresses
	// FirstID is the Mix id of the first sender (the others follow): runs against one collector
	// that must not share attacker addresses use different ranges.
	FirstID uint32
}

// Result is what a run sent. Only records whose export request succeeded count as sent.
type Result struct {
	Records          int64   `json:"records"`
	Batches          int64   `json:"batches"`
	Attacks          int64   `json:"attacks"`
	FailedBatches    int64   `json:"failed_batches"`
	FailedRecords    int64   `json:"failed_records"`
	ElapsedSeconds   float64 `json:"elapsed_seconds"`
	RecordsPerSecond float64 `json:"records_per_second"`
	FirstError       string  `json:"first_error,omitempty"`
}

func (o *Options) check() error {
	switch {
	case o.Endpoint == "":
		return errors.New("endpoint: empty")
	case o.Duration <= 0 && o.Records <= 0:
		return errors.New("duration or records: one of them must be positive")
	case o.BatchSize < 1:
		return fmt.Errorf("batch size: %d, must be at least 1", o.BatchSize)
	case o.Concurrency < 1:
		return fmt.Errorf("concurrency: %d, must be at least 1", o.Concurrency)
	case o.Rate < 0:
		return fmt.Errorf("rate: %g, must not be negative", o.Rate)
	case o.AttackEvery < 0:
		return fmt.Errorf("attack every: %d, must not be negative", o.AttackEvery)
	}
	return nil
}

// Run sends the mix until the duration or the record count is reached, or ctx is done. A request
// still in flight when the time is up completes and counts.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	var callOpts []grpc.CallOption
	if o.Gzip {
		callOpts = append(callOpts, grpc.UseCompressor(gzip.Name))
	}
	clients := make([]plogotlp.GRPCClient, o.Concurrency)
	for i := range clients {
		conn, err := grpc.NewClient(o.Endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return Result{}, fmt.Errorf("endpoint %q: %w", o.Endpoint, err)
		}
		defer func() { _ = conn.Close() }()
		clients[i] = plogotlp.NewGRPCClient(conn)
	}

	var (
		res       Result
		claimed   atomic.Int64 // records claimed by senders, against o.Records
		errOnce   sync.Once
		wg        sync.WaitGroup
		perSender = o.Rate / float64(o.Concurrency)
	)
	start := time.Now()
	var deadline time.Time
	if o.Duration > 0 {
		deadline = start.Add(o.Duration)
	}
	results := make([]Result, o.Concurrency)
	for w := range o.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			mix := loadmix.NewMix(o.BatchSize, o.AttackEvery, o.FirstID+uint32(w))
			for sent := 0; ctx.Err() == nil; sent++ {
				if !deadline.IsZero() && !time.Now().Before(deadline) {
					return
				}
				if o.Records > 0 && claimed.Add(int64(o.BatchSize)) > o.Records {
					return
				}
				if perSender > 0 { // keep to the schedule: batch k leaves at start + k*batch/rate
					due := start.Add(time.Duration(float64(sent) * float64(o.BatchSize) / perSender * float64(time.Second)))
					if wait := time.Until(due); wait > 0 {
						select {
						case <-time.After(wait):
						case <-ctx.Done():
							return
						}
					}
				}
				next := mix.Next
				if o.Fresh {
					next = mix.Batch
				}
				ld, attack := next(time.Now())
				n := int64(ld.LogRecordCount())
				// Not ctx: a request under way when the run ends completes and counts.
				_, err := clients[w].Export(context.WithoutCancel(ctx), plogotlp.NewExportRequestFromLogs(ld), callOpts...)
				if err != nil {
					r.FailedBatches++
					r.FailedRecords += n
					errOnce.Do(func() { res.FirstError = err.Error() })
					time.Sleep(10 * time.Millisecond) // the endpoint is down or refusing: do not spin
					continue
				}
				r.Batches++
				r.Records += n
				if attack {
					r.Attacks++
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, r := range results {
		res.Records += r.Records
		res.Batches += r.Batches
		res.Attacks += r.Attacks
		res.FailedBatches += r.FailedBatches
		res.FailedRecords += r.FailedRecords
	}
	res.ElapsedSeconds = elapsed.Seconds()
	res.RecordsPerSecond = float64(res.Records) / elapsed.Seconds()
	return res, nil
}
