// Package result is the JSON report of tools/bench/e2e, which tools/bench/report renders into BENCHMARKS.md.
package result

import "time"

// Report is what the run measured; tools/bench/report renders it into BENCHMARKS.md.
type Report struct {
	Started     time.Time    `json:"started"`
	Command     string       `json:"command"`
	Pinning     string       `json:"pinning"`
	GOMAXPROCS  int          `json:"gomaxprocs_of_bench"`
	Duration    float64      `json:"duration_seconds"`
	Warmup      float64      `json:"warmup_seconds"`
	Batch       int          `json:"batch"`
	Concurrency int          `json:"concurrency"`
	AttackEvery int          `json:"attack_every"`
	Mode        string       `json:"mode"` // ModeSideBySide or ModeSequential
	Runs        []Run        `json:"runs,omitempty"`
	Summary     *Summary     `json:"summary,omitempty"`
	Latency     []LatencyRun `json:"latency,omitempty"`
}

// How the two configurations of a round are run.
const (
	// ModeSideBySide runs both at the same time, sharing the collector CPUs.
	ModeSideBySide = "side-by-side"
	// ModeSequential runs one after the other, in ABBA order over the rounds.
	ModeSequential = "sequential"
)

// Run is one timed run of one configuration.
type Run struct {
	Config           string  `json:"config"` // plain or processor
	Round            int     `json:"round"`
	RecordsPerSecond float64 `json:"records_per_second"` // at the sink, over the measured interval
	CPUPerMillion    float64 `json:"collector_cpu_seconds_per_million"`
	CollectorCPU     float64 `json:"collector_cpu_utilisation"` // CPU-seconds per second
	LoadgenCPU       float64 `json:"loadgen_cpu_utilisation"`
	SinkCPU          float64 `json:"sink_cpu_utilisation"` // this process
	LoadBefore       float64 `json:"load_average_before"`
	LoadAfter        float64 `json:"load_average_after"`
	SentRecords      int64   `json:"sent_records"` // acknowledged by the collector, whole run
	SinkRecords      int64   `json:"sink_records"` // whole run, after draining
	Attacks          int64   `json:"attacks"`
	Alerts           int64   `json:"alerts"`
	FailedBatches    int64   `json:"failed_batches"`
}

// Summary compares the configurations over all rounds (means of the runs).
type Summary struct {
	PlainRecordsPerSecond     float64 `json:"plain_records_per_second"`
	ProcessorRecordsPerSecond float64 `json:"processor_records_per_second"`
	Ratio                     float64 `json:"throughput_ratio"`
	PlainCPUPerMillion        float64 `json:"plain_cpu_seconds_per_million"`
	ProcessorCPUPerMillion    float64 `json:"processor_cpu_seconds_per_million"`
	CPURatio                  float64 `json:"cpu_ratio"`
	BestRoundRatio            float64 `json:"best_round_ratio"`
	WorstRoundRatio           float64 `json:"worst_round_ratio"`
	MedianRoundRatio          float64 `json:"median_round_ratio"`     // of the rounds' throughput ratios
	MedianRoundCPURatio       float64 `json:"median_round_cpu_ratio"` // of the rounds' CPU-per-record ratios
}

// LatencyRun is the alert latency of one scenario: from sending the deciding logon over OTLP/gRPC
// to the alert's arrival at the sink, through a collector without the batch processor.
type LatencyRun struct {
	Scenario       string  `json:"scenario"`
	BackgroundRate float64 `json:"background_records_per_second"` // asked of the load generator
	Attacks        int     `json:"attacks"`
	Missing        int     `json:"missing"` // alerts that did not arrive within 5 s
	P50ms          float64 `json:"p50_ms"`
	P90ms          float64 `json:"p90_ms"`
	P99ms          float64 `json:"p99_ms"`
	MaxMs          float64 `json:"max_ms"`
	MeanMs         float64 `json:"mean_ms"`
	ExportP50ms    float64 `json:"logon_export_p50_ms"` // until the receiver acknowledged the logon
	LoadBefore     float64 `json:"load_average_before"`
	LoadAfter      float64 `json:"load_average_after"`
}
