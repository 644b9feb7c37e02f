// Command loadgen sends OTLP/gRPC log batches of a realistic mix to a collector, as fast as it
// answers or at a given rate: about 90% application logs; successful and failed Entra ID sign-ins
// in the Sentinel schema; sshd logons as the syslog receiver emits them; Windows 4624 and 4625 in
// the SecurityEvent schema; and one attack (six failed sign-ins from a fresh address, then a host
// logon from it) every -attack-every batches of each sender. Event times are the send time.
//
//	loadgen -endpoint 127.0.0.1:4317 -duration 20s -batch 1000 -concurrency 4
//
// It prints the records sent (acknowledged by the endpoint) and records per second; -json prints
// the same as one JSON object.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/secops-otel/aadhostlogincorrelation/tools/loadgen"
)

func main() {
	var o loadgen.Options
	var firstID uint
	flag.StringVar(&o.Endpoint, "endpoint", "127.0.0.1:4317", "OTLP/gRPC endpoint, host:port (plaintext)")
	flag.DurationVar(&o.Duration, "duration", 0, "send for this long (e.g. 20s); 0 with -records set: no time limit")
	flag.Int64Var(&o.Records, "records", 0, "send this many records (rounded up to whole batches); 0: no count limit")
	flag.IntVar(&o.BatchSize, "batch", 1000, "records per export request")
	flag.IntVar(&o.Concurrency, "concurrency", 4, "senders, each with its own connection and one request in flight")
	flag.Float64Var(&o.Rate, "rate", 0, "records per second over all senders; 0: as fast as the endpoint answers")
	flag.IntVar(&o.AttackEvery, "attack-every", 10, "one attack per this many batches of each sender; 0: none")
	flag.BoolVar(&o.Gzip, "gzip", false, "gzip-compress requests")
	flag.BoolVar(&o.Fresh, "fresh", false, "build every batch anew (by default a few batches are sent again with new times and addresses, which costs the generator a quarter as much)")
	flag.UintVar(&firstID, "first-id", 0, "id of the first sender (0-15): runs against one collector use different ids so their attackers differ")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	if o.Duration == 0 && o.Records == 0 {
		fmt.Fprintln(os.Stderr, "loadgen: set -duration or -records")
		flag.Usage()
		os.Exit(2)
	}
	if firstID+uint(o.Concurrency) > 16 {
		fmt.Fprintf(os.Stderr, "loadgen: -first-id %d with -concurrency %d: ids must stay below 16\n", firstID, o.Concurrency)
		os.Exit(2)
	}
	o.FirstID = uint32(firstID)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(2)
	}
	if *asJSON {
		_ = json.NewEncoder(os.Stdout).Encode(res)
	} else {
		fmt.Printf("sent %d records in %.1fs: %.0f records/s (%d batches of %d, %d attacks)\n",
			res.Records, res.ElapsedSeconds, res.RecordsPerSecond, res.Batches, o.BatchSize, res.Attacks)
		if res.FailedBatches > 0 {
			fmt.Printf("failed: %d batches (%d records); first error: %s\n", res.FailedBatches, res.FailedRecords, res.FirstError)
		}
	}
	if res.Records == 0 && res.FailedBatches > 0 {
		os.Exit(1)
	}
}
