package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"syscall"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
	"github.com/secops-otel/aadhostlogincorrelation/tools/bench/e2e/result"
)

// latencyAttackID is the Mix id of the measured attacks' addresses (172.31.0.0/16): the background
// load generator's senders use lower ids.
const latencyAttackID = 15

func latency(o options, s *sink, collectorCPUs, loadCPUs string, loadRate float64) ([]result.LatencyRun, error) {
	var out []result.LatencyRun
	for _, sc := range []struct {
		name string
		rate float64
	}{{"idle", 0}, {"loaded", loadRate}} {
		r, err := latencyRun(o, s, sc.name, sc.rate, collectorCPUs, loadCPUs)
		if err != nil {
			return nil, err
		}
		fmt.Printf("latency %-6s (background %.0f records/s): p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  missing %d/%d  load %.2f→%.2f\n",
			r.Scenario, r.BackgroundRate, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.Missing, r.Attacks, r.LoadBefore, r.LoadAfter)
		out = append(out, r)
	}
	return out, nil
}

func latencyRun(o options, s *sink, name string, rate float64, collectorCPUs, loadCPUs string) (result.LatencyRun, error) {
	r := result.LatencyRun{Scenario: name, BackgroundRate: rate, Attacks: o.latencyAttacks}
	c, err := startCollector(o.collector, o.workDir, "latency-"+name, pipelineLatency, s.endpoint, collectorCPUs)
	if err != nil {
		return r, err
	}
	defer c.stop()

	if rate > 0 {
		lg := pinned(loadCPUs, o.loadgen, "-endpoint", c.receiver, "-duration", "1h",
			"-rate", strconv.FormatFloat(rate, 'f', 0, 64), "-batch", strconv.Itoa(o.batch),
			"-concurrency", "2", "-first-id", "8", "-attack-every", strconv.Itoa(o.attackEvery), "-json")
		var stdout bytes.Buffer
		lg.Stdout, lg.Stderr = &stdout, os.Stderr
		if err := lg.Start(); err != nil {
			return r, err
		}
		defer stopLoad(lg)
		time.Sleep(2 * time.Second) // the background load reaches its rate
	}

	conn, err := grpc.NewClient(c.receiver, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return r, err
	}
	defer func() { _ = conn.Close() }()
	client := plogotlp.NewGRPCClient(conn)
	ctx := context.Background()

	r.LoadBefore = loadAverage()
	var lat, export []time.Duration
	for i := range o.latencyAttacks {
		ip := loadmix.AttackerAddr(latencyAttackID<<16 + uint32(i))
		failures, logon := loadmix.Attack(ip, i%2 == 1, time.Now())
		if _, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(failures)); err != nil {
			return r, fmt.Errorf("sending failures: %w", err)
		}
		req := plogotlp.NewExportRequestFromLogs(logon)
		arrived := s.expect(ip)
		sent := time.Now()
		if _, err := client.Export(ctx, req); err != nil {
			return r, fmt.Errorf("sending the logon: %w", err)
		}
		export = append(export, time.Since(sent))
		select {
		case t := <-arrived:
			lat = append(lat, t.Sub(sent))
		case <-time.After(5 * time.Second):
			s.forget(ip)
			r.Missing++
		}
	}
	r.LoadAfter = loadAverage()
	if len(lat) == 0 {
		return r, fmt.Errorf("latency %s: no alert arrived; log: %s", name, c.logPath)
	}
	r.P50ms, r.P90ms, r.P99ms = quantileMs(lat, 0.50), quantileMs(lat, 0.90), quantileMs(lat, 0.99)
	r.MaxMs = quantileMs(lat, 1)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	r.MeanMs = float64(sum) / float64(len(lat)) / 1e6
	r.ExportP50ms = quantileMs(export, 0.5)
	return r, nil
}

// quantileMs returns the q-quantile of ds (nearest rank) in milliseconds.
func quantileMs(ds []time.Duration, q float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i]) / 1e6
}

// stopLoad ends a background load generator (it reports and exits on SIGTERM).
func stopLoad(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}
