package main

import (
	"fmt"
	"math"
	"strings"

	"github.com/secops-otel/aadhostlogincorrelation/tools/bench/e2e/result"
)

func renderE2E(in *inputs) string {
	if in.e2eErr != nil {
		return "No end-to-end results (`out/e2e.json`: " + in.e2eErr.Error() + "). Run `make bench-e2e`."
	}
	r := in.e2e
	if r.Summary == nil {
		return "The last end-to-end run skipped the throughput comparison."
	}
	var b strings.Builder
	order := "Runs alternate in ABBA order: plain, processor, then processor, plain, ..., so that a drift of the machine's\n" +
		"speed weighs on both alike; a round is one run of each (%s).\n\n"
	if r.Mode == result.ModeSideBySide {
		order = "**Side by side**: in each round both collectors run at the same time, pinned to the same CPU, each with its\n" +
			"own load generator and sink, so that whatever slows the machine down during the round slows both alike\n" +
			"(run one after the other, the plain collector alone drifted by up to 60%% between consecutive runs here).\n" +
			"Each gets about half of that CPU; the throughput ratio is then the ratio of what each pipeline does with\n" +
			"the same CPU (%s).\n\n"
	}
	fmt.Fprintf(&b, "One collector binary (`make build`), started twice with configurations that differ only in the processor:\n"+
		"`otlp` receiver → [`aadhostlogincorrelation`] → `batch` → `otlp_grpc` exporter (gzip, the default; sending queue\n"+
		"with `block_on_overflow: true`, so an overloaded collector pushes back instead of dropping) → a sink on loopback\n"+
		"(a real OTLP/gRPC server in `tools/bench/e2e` that counts records). Internal metrics on (Prometheus reader, level\n"+
		"normal), as in production. Both driven by `tools/cmd/loadgen` with the same flags: %d senders, each with one\n"+
		"request of %d records in flight, as fast as the collector answers; one attack per %d batches of each sender\n"+
		"(built anew; the other batches are a few per sender, stamped again and given new addresses each time).\n"+
		"Each run: %.0f s of load before %.0f s measured; records/s counted at the sink over the measured interval;\n"+
		"collector CPU from `/proc/PID/stat` (utime + stime) over the same interval. Pinning: %s.\n",
		r.Concurrency, r.Batch, r.AttackEvery, r.Warmup, r.Duration, r.Pinning)
	fmt.Fprintf(&b, order, r.Started.Format("2006-01-02 15:04 MST"))
	b.WriteString("| round | pipeline | records/s at the sink | collector CPU-s per M records | collector CPU | loadgen CPU | sink CPU | load avg before → after | attacks → alerts |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, run := range r.Runs {
		name := "plain"
		if run.Config == "processor" {
			name = "with processor"
		}
		fmt.Fprintf(&b, "| %d | %s | %s | %.2f | %.2f | %.2f | %.2f | %.2f → %.2f | %d → %d |\n", run.Round, name,
			si(run.RecordsPerSecond), run.CPUPerMillion, run.CollectorCPU, run.LoadgenCPU, run.SinkCPU,
			run.LoadBefore, run.LoadAfter, run.Attacks, run.Alerts)
	}
	s := r.Summary
	fmt.Fprintf(&b, "\n(CPU columns are CPU-seconds per second of the measured interval; 1.00 is one CPU fully used.)\n\n")
	fmt.Fprintf(&b, "| | plain | with processor | processor / plain |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| records/s (mean of runs) | %s | %s | **%.3f** (rounds: %.3f – %.3f, median %.3f) |\n", si(s.PlainRecordsPerSecond),
		si(s.ProcessorRecordsPerSecond), s.Ratio, s.WorstRoundRatio, s.BestRoundRatio, s.MedianRoundRatio)
	fmt.Fprintf(&b, "| collector CPU-s per million records | %.2f | %.2f | %.3f (median of rounds %.3f) |\n\n", s.PlainCPUPerMillion,
		s.ProcessorCPUPerMillion, s.CPURatio, s.MedianRoundCPURatio)
	ratio := s.Ratio
	if r.Mode == result.ModeSideBySide {
		// Each round's pair shared the same moments: its ratio is free of the drift between rounds.
		ratio = s.MedianRoundRatio
		fmt.Fprintf(&b, "Records per collector CPU-second, processor / plain: %.3f (median of rounds %.3f), the same comparison\n"+
			"made independent of how the CPU was shared.\n\n", 1/s.CPURatio, 1/s.MedianRoundCPURatio)
		fmt.Fprintf(&b, "Target: the processor pipeline at ≥ 95%% of the plain pipeline's throughput (median of the rounds' side-by-side\n"+
			"ratios): %s\n\n", verdictAtLeast(ratio, 0.95))
	} else {
		fmt.Fprintf(&b, "Target: the processor pipeline at ≥ 95%% of the plain pipeline's throughput: %s\n\n", verdictAtLeast(ratio, 0.95))
	}
	plainLo, plainHi := math.Inf(1), math.Inf(-1)
	for _, run := range r.Runs {
		if run.Config == "plain" {
			plainLo, plainHi = min(plainLo, run.CPUPerMillion), max(plainHi, run.CPUPerMillion)
		}
	}
	added := s.ProcessorCPUPerMillion - s.PlainCPUPerMillion
	if added > 0 {
		fmt.Fprintf(&b, "By CPU, the processor adds %.2f µs per record to the %.2f µs a plain collector spends (OTLP decode,\n"+
			"batching, encode, gzip, gRPC): %+.1f%%. A collector that is CPU-bound can then carry at most %.3f of the plain\n"+
			"pipeline's records; the throughput ratio above also moves with what the other jobs on the machine took\n"+
			"from each run (the plain runs alone ranged from %.2f to %.2f CPU-s per million records).",
			added, s.PlainCPUPerMillion, 100*(s.CPURatio-1), 1/s.CPURatio, plainLo, plainHi)
	} else {
		fmt.Fprintf(&b, "This run could not resolve the processor's CPU cost: the difference (%.2f µs per record) is smaller than\n"+
			"the drift of the machine during the run (the plain runs alone ranged from %.2f to %.2f CPU-s per million records).",
			added, plainLo, plainHi)
	}
	if mix := in.stats.Value(rootPkg, "RealisticMix", "sec/op"); !math.IsNaN(mix) {
		fmt.Fprintf(&b, " In isolation (`BenchmarkRealisticMix`, same mix) the processor takes %.2f µs per record.", mix*1e6/benchBatch)
	}
	b.WriteString("\n\nReproduce one step: `make build && go -C tools build -o ../out/loadgen ./cmd/loadgen && go -C tools build -o ../out/bench-e2e ./bench/e2e && out/bench-e2e`\n" +
		"(`-duration`, `-rounds`, `-concurrency`, `-side-by-side=false`, `-pin=false`, `-skip-latency`; `out/bench-e2e -h`). The load\n" +
		"generator alone: `out/loadgen -endpoint 127.0.0.1:4317 -duration 20s -batch 1000 -concurrency 4 [-rate N]`.")
	return b.String()
}
