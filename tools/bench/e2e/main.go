// Command e2e compares, in one run, the same collector binary started with two configurations that
// differ only in the aadhostlogincorrelation processor (otlp receiver → [processor] → batch → otlp
// exporter to a sink on loopback), driven by the same load generator (tools/cmd/loadgen) for the same time.
// By default both run side by side, at the same time on the same CPUs, each with its own load
// generator and sink, so that the machine's drift (large on a shared virtual machine) weighs on
// both alike; -side-by-side=false runs them one after the other in ABBA order. It reports the records per second counted at
// the sink, their ratio, and the collector's CPU-seconds per million records. Then it measures alert latency through
// a collector without the batch processor: from sending the deciding logon over OTLP/gRPC to the
// alert reaching the sink, idle and under background load.
//
//	out/bench-e2e -collector _build/otelcol-aadhostlogin -loadgen out/loadgen -out out/e2e.json
//
// run from the repository root after make build and
// go -C tools build -o ../out/loadgen ./cmd/loadgen && go -C tools build -o ../out/bench-e2e ./bench/e2e.
//
// On a machine with at least two CPUs and taskset it pins the collector to the last CPU and the load
// generator and this program (the sink) to the others, so the two sides do not compete.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/tools/bench/e2e/result"
	"github.com/secops-otel/aadhostlogincorrelation/tools/loadgen"
)

type options struct {
	collector, loadgen, out, workDir        string
	duration, warmup                        time.Duration
	rounds, batch, concurrency              int
	attackEvery                             int
	pin                                     bool
	latencyAttacks                          int
	latencyLoad                             float64
	sideBySide, skipThroughput, skipLatency bool
}

func main() {
	var o options
	flag.StringVar(&o.collector, "collector", "_build/otelcol-aadhostlogin", "the collector binary")
	flag.StringVar(&o.loadgen, "loadgen", "out/loadgen", "the load generator binary (go -C tools build -o ../out/loadgen ./cmd/loadgen)")
	flag.StringVar(&o.out, "out", "out/e2e.json", "where the JSON report goes")
	flag.StringVar(&o.workDir, "dir", "out/e2e", "folder for the collectors' configurations and logs")
	flag.DurationVar(&o.duration, "duration", 15*time.Second, "measured time of each run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before the measured time of each run")
	flag.IntVar(&o.rounds, "rounds", 6, "rounds of one plain and one processor run (side by side, or one after the other in ABBA order)")
	flag.IntVar(&o.batch, "batch", 1000, "records per export request of the load generator")
	flag.IntVar(&o.concurrency, "concurrency", 8, "load generator senders (enough to keep the collector busy)")
	flag.IntVar(&o.attackEvery, "attack-every", 10, "one attack per this many batches of each sender")
	flag.BoolVar(&o.pin, "pin", true, "pin the collector and the load side to different CPUs with taskset, when there are two or more")
	flag.IntVar(&o.latencyAttacks, "latency-attacks", 200, "attacks whose alert latency is measured, per scenario")
	flag.Float64Var(&o.latencyLoad, "latency-load", 0.5, "background load of the loaded latency scenario, as a fraction of what the plain collector was measured to do with one CPU (20000 records/s without a throughput comparison)")
	flag.BoolVar(&o.sideBySide, "side-by-side", true, "run the plain and the processor collector at the same time on the same CPUs, each with its own load generator and sink (false: one after the other)")
	flag.BoolVar(&o.skipThroughput, "skip-throughput", false, "do not run the throughput comparison")
	flag.BoolVar(&o.skipLatency, "skip-latency", false, "do not measure alert latency")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	for _, bin := range []string{o.collector, o.loadgen} {
		if _, err := os.Stat(bin); err != nil {
			return fmt.Errorf("%s: %w (make build; go -C tools build -o ../out/loadgen ./cmd/loadgen)", bin, err)
		}
	}
	if err := os.MkdirAll(o.workDir, 0o755); err != nil {
		return err
	}
	rep := result.Report{
		Started: time.Now().UTC(), Command: "out/bench-e2e " + shellJoin(os.Args[1:]),
		Duration: o.duration.Seconds(), Warmup: o.warmup.Seconds(), Batch: o.batch,
		Concurrency: o.concurrency, AttackEvery: o.attackEvery,
	}
	collectorCPUs, loadCPUs := pinning(o.pin)
	if collectorCPUs == "" {
		rep.Pinning = "none (all processes share every CPU)"
	} else {
		// This process holds the sink: it goes with the load generator.
		if out, err := exec.Command("taskset", "-a", "-p", "-c", loadCPUs, strconv.Itoa(os.Getpid())).CombinedOutput(); err != nil {
			return fmt.Errorf("taskset on the sink: %v: %s", err, out)
		}
		rep.Pinning = fmt.Sprintf("collector on CPU %s; load generator and sink on CPU %s (taskset)", collectorCPUs, loadCPUs)
	}
	rep.GOMAXPROCS = runtime.GOMAXPROCS(0)
	fmt.Printf("pinning: %s\n", rep.Pinning)

	sinks := make([]*sink, 2)
	for i := range sinks {
		s, err := startSink()
		if err != nil {
			return err
		}
		defer s.stop()
		sinks[i] = s
	}
	s := sinks[0]

	if !o.skipThroughput {
		rep.Mode = result.ModeSequential
		if o.sideBySide {
			rep.Mode = result.ModeSideBySide
		}
		for round := 1; round <= o.rounds; round++ {
			// Plain and processor alternate which starts first (ABBA order); in sequence, a drift
			// of the machine's speed over the run then weighs on both configurations alike.
			order := []pipelineConfig{{"plain", pipelinePlain}, {"processor", pipelineProcessor}}
			if round%2 == 0 {
				order[0], order[1] = order[1], order[0]
			}
			groups := [][]pipelineConfig{order}
			if !o.sideBySide {
				groups = [][]pipelineConfig{order[:1], order[1:]}
			}
			for _, g := range groups {
				runs, err := throughputRound(o, sinks, g, round, collectorCPUs, loadCPUs)
				if err != nil {
					return err
				}
				for _, r := range runs {
					fmt.Printf("round %d %-9s %9.0f records/s  %6.2f CPU-s/M records  collector %.2f CPU  loadgen %.2f CPU  sink %.2f CPU  load %.2f→%.2f  attacks %d alerts %d\n",
						round, r.Config, r.RecordsPerSecond, r.CPUPerMillion, r.CollectorCPU, r.LoadgenCPU, r.SinkCPU,
						r.LoadBefore, r.LoadAfter, r.Attacks, r.Alerts)
					rep.Runs = append(rep.Runs, r)
				}
			}
		}
		rep.Summary = summarise(rep.Runs)
		fmt.Printf("throughput ratio processor/plain %.3f (median of rounds %.3f); CPU-s per million records plain %.2f, processor %.2f (median of rounds' ratios %.3f)\n",
			rep.Summary.Ratio, rep.Summary.MedianRoundRatio, rep.Summary.PlainCPUPerMillion, rep.Summary.ProcessorCPUPerMillion, rep.Summary.MedianRoundCPURatio)
	}

	if !o.skipLatency {
		loadRate := 20000.0
		if rep.Summary != nil {
			// Records per CPU-second: in a side-by-side run each collector had only part of a CPU.
			loadRate = o.latencyLoad * 1e6 / rep.Summary.PlainCPUPerMillion
		}
		lat, err := latency(o, s, collectorCPUs, loadCPUs, loadRate)
		if err != nil {
			return err
		}
		rep.Latency = lat
	}

	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		return err
	}
	return os.WriteFile(o.out, append(b, '\n'), 0o644)
}

// pinning returns the CPUs of the collector and of the load side, or "" when not pinning.
func pinning(want bool) (collectorCPUs, loadCPUs string) {
	n := runtime.NumCPU()
	if !want || n < 2 {
		return "", ""
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		return "", ""
	}
	if n == 2 {
		return "1", "0"
	}
	// Half the CPUs each, the collector on the upper half.
	return fmt.Sprintf("%d-%d", n/2, n-1), fmt.Sprintf("0-%d", n/2-1)
}

// pipelineRun is one configuration being measured: its collector, its load generator and its sink.
type pipelineRun struct {
	r                      result.Run
	s                      *sink
	c                      *collector
	lg                     *exec.Cmd
	stdout                 bytes.Buffer
	lgDone                 chan error
	sinkStart, alertsStart int64
}

// runSnapshot is what a pipelineRun has done at one moment.
type runSnapshot struct {
	t                         time.Time
	sink                      int64
	coll, lgen, self          float64
	collErr, lgenErr, selfErr error
	loadAverageMinute         float64
}

// throughputRound runs the configurations at the same time, each with its own collector, load
// generator and sink: warm-up, then the measured interval, then the rest of the load drains. With
// one configuration it is a run of its own; with two, both share the collector CPUs for the whole
// interval, so that whatever else slows the machine down slows both alike.
func throughputRound(o options, sinks []*sink, configs []pipelineConfig, round int, collectorCPUs, loadCPUs string) ([]result.Run, error) {
	runs := make([]*pipelineRun, len(configs))
	defer func() {
		for _, p := range runs {
			if p != nil {
				p.c.stop()
			}
		}
	}()
	// The load goes on a little past the measured interval, so that it is at full rate throughout.
	total := o.warmup + o.duration + 2*time.Second
	for i, cfg := range configs {
		p := &pipelineRun{r: result.Run{Config: cfg.name, Round: round}, s: sinks[i], lgDone: make(chan error, 1)}
		c, err := startCollector(o.collector, o.workDir, fmt.Sprintf("%s-%d", cfg.name, round), cfg.processors, p.s.endpoint, collectorCPUs)
		if err != nil {
			return nil, err
		}
		p.c = c
		runs[i] = p
	}
	for _, p := range runs {
		p.sinkStart, p.alertsStart = p.s.records.Load(), p.s.alerts.Load()
		p.lg = pinned(loadCPUs, o.loadgen, "-endpoint", p.c.receiver, "-duration", total.String(),
			"-batch", strconv.Itoa(o.batch), "-concurrency", strconv.Itoa(o.concurrency),
			"-attack-every", strconv.Itoa(o.attackEvery), "-json")
		p.lg.Stdout, p.lg.Stderr = &p.stdout, os.Stderr
		if err := p.lg.Start(); err != nil {
			return nil, err
		}
		go func() { p.lgDone <- p.lg.Wait() }()
	}

	time.Sleep(o.warmup)
	take := func(p *pipelineRun) runSnapshot {
		var sn runSnapshot
		sn.t = time.Now()
		sn.sink = p.s.records.Load()
		sn.coll, sn.collErr = cpuSeconds(p.c.pid)
		sn.lgen, sn.lgenErr = cpuSeconds(p.lg.Process.Pid)
		sn.self, sn.selfErr = cpuSeconds(os.Getpid())
		sn.loadAverageMinute = loadAverage()
		return sn
	}
	before := make([]runSnapshot, len(runs))
	for i, p := range runs {
		before[i] = take(p)
	}
	time.Sleep(o.duration)
	after := make([]runSnapshot, len(runs))
	for i, p := range runs {
		after[i] = take(p)
	}

	out := make([]result.Run, len(runs))
	for i, p := range runs {
		a, b := before[i], after[i]
		for _, err := range []error{a.collErr, a.lgenErr, a.selfErr, b.collErr, b.lgenErr, b.selfErr} {
			if err != nil {
				return nil, fmt.Errorf("reading CPU time: %w", err)
			}
		}
		if err := <-p.lgDone; err != nil {
			return nil, fmt.Errorf("loadgen: %w", err)
		}
		var res loadgen.Result
		if err := json.Unmarshal(p.stdout.Bytes(), &res); err != nil {
			return nil, fmt.Errorf("loadgen output %q: %w", p.stdout.String(), err)
		}
		p.s.settle(time.Second, 30*time.Second)

		r := &p.r
		secs := b.t.Sub(a.t).Seconds()
		records := float64(b.sink - a.sink)
		if records == 0 {
			return nil, fmt.Errorf("%s: no record reached the sink in the measured interval; log: %s", r.Config, p.c.logPath)
		}
		r.RecordsPerSecond = records / secs
		r.CPUPerMillion = (b.coll - a.coll) / records * 1e6
		r.CollectorCPU = (b.coll - a.coll) / secs
		r.LoadgenCPU = (b.lgen - a.lgen) / secs
		r.SinkCPU = (b.self - a.self) / secs
		r.LoadBefore, r.LoadAfter = a.loadAverageMinute, b.loadAverageMinute
		r.SentRecords, r.Attacks, r.FailedBatches = res.Records, res.Attacks, res.FailedBatches
		r.SinkRecords = p.s.records.Load() - p.sinkStart
		r.Alerts = p.s.alerts.Load() - p.alertsStart
		out[i] = *r
	}
	return out, nil
}

func summarise(runs []result.Run) *result.Summary {
	var sum result.Summary
	var nPlain, nProc float64
	plainByRound := map[int]result.Run{}
	for _, r := range runs {
		if r.Config == "plain" {
			sum.PlainRecordsPerSecond += r.RecordsPerSecond
			sum.PlainCPUPerMillion += r.CPUPerMillion
			nPlain++
			plainByRound[r.Round] = r
		} else {
			sum.ProcessorRecordsPerSecond += r.RecordsPerSecond
			sum.ProcessorCPUPerMillion += r.CPUPerMillion
			nProc++
		}
	}
	sum.PlainRecordsPerSecond /= nPlain
	sum.PlainCPUPerMillion /= nPlain
	sum.ProcessorRecordsPerSecond /= nProc
	sum.ProcessorCPUPerMillion /= nProc
	sum.Ratio = sum.ProcessorRecordsPerSecond / sum.PlainRecordsPerSecond
	sum.CPURatio = sum.ProcessorCPUPerMillion / sum.PlainCPUPerMillion
	var ratios, cpuRatios []float64
	for _, r := range runs {
		if p, ok := plainByRound[r.Round]; ok && r.Config == "processor" {
			ratios = append(ratios, r.RecordsPerSecond/p.RecordsPerSecond)
			cpuRatios = append(cpuRatios, r.CPUPerMillion/p.CPUPerMillion)
		}
	}
	if len(ratios) > 0 {
		sum.BestRoundRatio, sum.WorstRoundRatio = slices.Max(ratios), slices.Min(ratios)
		sum.MedianRoundRatio, sum.MedianRoundCPURatio = median(ratios), median(cpuRatios)
	}
	return &sum
}

func median(vs []float64) float64 {
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func shellJoin(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a)
	}
	return b.String()
}

// pipelineConfig is one of the two configurations compared: its name and its processors.
type pipelineConfig struct{ name, processors string }
