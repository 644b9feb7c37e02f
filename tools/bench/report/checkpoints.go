package main

import (
	"fmt"
	"strings"
)

// statePkg holds the restore, snapshot and replay benchmarks of the memory backend.
const statePkg = rootPkg + "/internal/state"

// renderCheckpoints is the checkpoint benchmarks (checkpoint_bench_test.go, and the state's
// restore_bench_test.go), which run with the scaling benchmarks (their names end in Tracked).
func renderCheckpoints(in *inputs) string {
	if in.statsErr != nil {
		return "No results (`out/benchstat.csv`: " + in.statsErr.Error() + ")."
	}
	var b strings.Builder
	b.WriteString("**Checkpoints** (`BenchmarkCheckpointTracked*`, through file_storage; README, \"How checkpoints work\"): N addresses with\n" +
		"three failed sign-ins each and N waiting logons. Batches of 1000 records of the realistic mix, one every 10 ms, quiet and\n" +
		"while a compaction of the whole state runs (its wall time; the process's CPU time and peak heap meanwhile); the same\n" +
		"latencies less the batches' thread's waits for a CPU in the kernel's run queue (the machine's other jobs); journal bytes\n" +
		"per record of the mix; two hours of event time at 1000 records/s: bytes written in the first, the storage file against\n" +
		"the state (encoded) after each; restore through file_storage, wall and process CPU.\n\n")
	b.WriteString("| N | base | batch p99 / max, quiet | during a compaction | less run-queue waits: quiet, during | compaction (CPU, peak heap) | journal B/record | 1st hour: written | file / state after 1 h | after 2 h | restore (CPU) |\n" +
		"|---|---|---|---|---|---|---|---|---|---|---|\n")
	ms := func(bench, unit string) string { return num(in.stats.Value(rootPkg, bench, unit)/1e3, "%.1f") }
	mb := func(bench, unit string) string { return num(in.stats.Value(rootPkg, bench, unit)/1e6, "%.1f MB") }
	rows := 0
	for _, n := range []string{"100K", "1M"} {
		bench := "CheckpointTracked" + n
		if _, ok := in.stats.Get(rootPkg, bench, "restore-s"); !ok {
			continue
		}
		rows++
		fmt.Fprintf(&b, "| %s | %s | %s / %s ms | %s / %s ms | %s / %s, %s / %s ms | %s s (%s s, %s) | %s | %s | %s / %s | %s / %s | %s s (%s s) |\n", n,
			mb(bench, "base-B"), ms(bench, "quiet-p99-µs"), ms(bench, "quiet-max-µs"),
			ms(bench, "batch-p99-µs"), ms(bench, "batch-max-µs"),
			ms(bench, "quiet-own-p99-µs"), ms(bench, "quiet-own-max-µs"), ms(bench, "batch-own-p99-µs"), ms(bench, "batch-own-max-µs"),
			num(in.stats.Value(rootPkg, bench, "compact-s"), "%.1f"), num(in.stats.Value(rootPkg, bench, "batch-cpu-s"), "%.1f"),
			mb(bench, "batch-heap-peak-B"),
			num(in.stats.Value(rootPkg, bench, "journal-B/record"), "%.1f"), mb(bench, "hour-written-B"),
			mb(bench, "hour-storage-B"), mb(bench, "hour-state-B"), mb(bench, "hour2-storage-B"), mb(bench, "hour2-state-B"),
			num(in.stats.Value(rootPkg, bench, "restore-s"), "%.2f"), num(in.stats.Value(rootPkg, bench, "restore-cpu-s"), "%.2f"))
	}
	if rows == 0 {
		b.WriteString("| – | no `CheckpointTracked` results in `out/benchstat.csv` | | | | | | | | | |\n")
	}
	b.WriteString("\n**The state alone** (`internal/state`): a snapshot (what a checkpoint held the batch lock for before the journal),\n" +
		"a restore, the replay of the journal of the same observations, and what a compaction computes, storage aside (a\n" +
		"replica restored and encoded again, unpaced).\n\n")
	b.WriteString("| N | snapshot | encode (CPU) | restore (CPU) | replay of its journal (CPU) | compaction (CPU) |\n|---|---|---|---|---|---|\n")
	for _, n := range []string{"100K", "1M"} {
		cell := func(bench string) string {
			st, ok := in.stats.Get(statePkg, bench+n, "sec/op")
			if !ok {
				return "–"
			}
			return fmt.Sprintf("%.2f s (%s s)", st.Center, num(in.stats.Value(statePkg, bench+n, "cpu-s/op"), "%.2f"))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", n, num(in.stats.Value(statePkg, "SnapshotTracked"+n, "snapshot-B")/1e6, "%.1f MB"),
			cell("SnapshotTracked"), cell("RestoreTracked"), cell("ReplayTracked"), cell("CompactTracked"))
	}
	fmt.Fprintf(&b, "\nLoad average %s before the micro-benchmarks, %s after: on a shared machine, wall times include waiting for a CPU.\n",
		in.load("micro-before"), in.load("micro-after"))
	return b.String()
}
