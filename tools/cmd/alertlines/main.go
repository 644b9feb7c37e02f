// Command alertlines prints the processor's alerts one line each (time, rule, address, where the
// success happened, failures and their source) from the OTLP JSON a file exporter writes. With
// -follow it waits for the file and prints alerts as the collector appends them, until interrupted;
// make run starts it beside the collector:
//
//	alertlines -follow out/alerts.json
//	alertlines out/alerts.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/tools/alertline"
)

func main() {
	follow := flag.Bool("follow", false, "wait for the file and print alerts as they are written, until interrupted")
	poll := flag.Duration("poll", 200*time.Millisecond, "with -follow, how often to look for new alerts")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: alertlines [-follow] FILE (the OTLP JSON of a file exporter)")
		os.Exit(2)
	}
	path := flag.Arg(0)
	var err error
	if *follow {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err = alertline.Follow(ctx, path, *poll, os.Stdout, os.Stderr)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			err = alertline.Copy(f, os.Stdout, os.Stderr)
			_ = f.Close()
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "alertlines:", err)
		os.Exit(1)
	}
}
