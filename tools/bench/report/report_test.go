package main

import (
	"bufio"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testdata holds the results of a short `make bench` on this project: bench.txt (go test -bench of a
// few benchmarks, -count 6), benchstat.csv and benchstat.txt (benchstat of it, -format csv and
// text), profile.txt (go tool pprof -top -nodecount 100000 -nodefraction 0 -tagfocus work=processor of
// BenchmarkRealisticMix); e2e.json and bench-load.txt are written in the tools' formats.

func readStats(t *testing.T) Stats {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "benchstat.csv"))
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	s, err := ParseBenchstatCSV(f)
	require.NoError(t, err)
	return s
}

// rawMedian is the median of one benchmark's values of unit in a go test -bench output.
func rawMedian(t *testing.T, path, pkg, bench, unit string) float64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer func() { _ = f.Close() }()
	var vs []float64
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 2 && fields[0] == "pkg:" {
			cur = fields[1]
		}
		if cur != pkg || len(fields) < 4 || benchName(strings.TrimPrefix(fields[0], "Benchmark")) != bench {
			continue
		}
		for i := 2; i+1 < len(fields); i += 2 {
			if fields[i+1] == unit {
				v, err := strconv.ParseFloat(fields[i], 64)
				require.NoError(t, err)
				vs = append(vs, v)
			}
		}
	}
	require.NotEmpty(t, vs, "%s %s %s in %s", pkg, bench, unit, path)
	slices.Sort(vs)
	if n := len(vs); n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
	return vs[len(vs)/2]
}

// The CSV's centers are the medians of the raw runs, in benchstat's units (seconds for ns), and
// every benchmark lands in its own package.
func TestParseBenchstatCSVMatchesTheRawRuns(t *testing.T) {
	s := readStats(t)
	raw := filepath.Join("testdata", "bench.txt")
	assert.Equal(t, "Intel(R) Xeon(R) Processor", s.CPU)
	for _, c := range []struct {
		pkg, bench, rawUnit, unit string
		scale                     float64 // raw = csv * scale
	}{
		{rootPkg, "Unrelated", "ns/op", "sec/op", 1e9},
		{rootPkg, "UnrelatedFloor", "ns/op", "sec/op", 1e9},
		{rootPkg, "AlertLatencyLone", "p99-ns", "p99-sec", 1e9},
		{rootPkg, "AlertLatencyLone", "B/op", "B/op", 1},
		{rootPkg, "MixTracked1K", "ns/record", "sec/record", 1e9},
		{rootPkg, "HeapPerPendingLogon", "heap-B/logon", "heap-B/logon", 1},
		{rootPkg, "HeapPerPendingLogon", "gc-ns/logon", "gc-sec/logon", 1e9},
		{windowPkg, "HeapPerIPv4_1M", "heap-B/ip", "heap-B/ip", 1},
		{windowPkg, "FailureTracked1K", "ns/op", "sec/op", 1e9},
	} {
		st, ok := s.Get(c.pkg, c.bench, c.unit)
		require.True(t, ok, "%s %s %s", c.pkg, c.bench, c.unit)
		want := rawMedian(t, raw, c.pkg, c.bench, c.rawUnit)
		assert.InDelta(t, want, st.Center*c.scale, math.Abs(want)*1e-6, "%s %s", c.bench, c.unit)
	}
	_, ok := s.Get(rootPkg, "HeapPerIPv4_1M", "heap-B/ip")
	assert.False(t, ok, "a benchmark of internal/window is not the root package's")
	_, ok = s.Get(rootPkg, "geomean", "sec/op")
	assert.False(t, ok, "geomean rows are no benchmark")
	st, _ := s.Get(rootPkg, "Unrelated", "sec/op")
	assert.Equal(t, " ± 13%", st.Spread())
	assert.Equal(t, "", Stat{CI: "∞"}.Spread())
}

func TestParseBenchstatCSVErrors(t *testing.T) {
	for _, c := range []struct{ name, csv, want string }{
		{"a row before its unit", "pkg: p\nUnrelated-2,1e-05,2%\n", `record 2 ("Unrelated-2") comes before any unit row`},
		{"a value that is no number", ",f.txt,\n,sec/op,CI\nUnrelated-2,fast,2%\n", `record 3 (Unrelated-2, sec/op): value "fast"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseBenchstatCSV(strings.NewReader(c.csv))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestFuncPackage(t *testing.T) {
	for fn, want := range map[string]string{
		"github.com/secops-otel/aadhostlogincorrelation/internal/window.(*index).find": windowPkg,
		"github.com/secops-otel/aadhostlogincorrelation.(*someType).someMethod.func1":  rootPkg,
		"go.opentelemetry.io/collector/pdata/internal.(*AnyValue).GetStringValue":      "go.opentelemetry.io/collector/pdata/internal",
		"runtime.mallocgc":                 "runtime",
		"strings.EqualFold":                "strings",
		"type:.eq.[2]interface {}":         "runtime",
		"indexbytebody":                    "runtime",
		"internal/runtime/maps.(*Map).get": "internal/runtime/maps",
		windowPkg + ".(*pendingLogons[go.shape.struct { " + rootPkg + "/internal/alert.fields string; x go.opentelemetry.io/collector/pdata/pcommon.Resource }]).lookup": windowPkg,
	} {
		assert.Equal(t, want, FuncPackage(fn), fn)
	}
}

func TestParsePprofTopAndFlatByPackage(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("testdata", "profile.txt"))
	require.NoError(t, err)
	rows, dropped := ParsePprofTop(string(text))
	require.NotEmpty(t, rows)
	assert.Empty(t, dropped)
	assert.Equal(t, ProfileRow{Func: windowPkg + ".(*index).find", Flat: 0.31, Cum: 0.35}, rows[0], "the (inline) mark is dropped")
	total := 0.0
	for _, r := range rows {
		total += r.Flat
	}
	// Every function is listed (-nodecount 100000): the rows add up to what pprof says it shows.
	assert.InDelta(t, 1.69, total, 1e-9)

	shares := FlatByPackage(rows)
	sum := 0.0
	for i, s := range shares {
		sum += s.Share
		if i > 0 {
			assert.GreaterOrEqual(t, shares[i-1].Flat, s.Flat, "largest first")
		}
	}
	assert.InDelta(t, 1, sum, 1e-9)
	byPkg := map[string]float64{}
	for _, s := range shares {
		byPkg[s.Package] = s.Flat
	}
	window := 0.0
	for _, r := range rows {
		if strings.HasPrefix(r.Func, windowPkg+".") {
			window += r.Flat
		}
	}
	assert.InDelta(t, window, byPkg[windowPkg], 1e-9)
}

func TestParsePprofTopUnits(t *testing.T) {
	rows, dropped := ParsePprofTop("Showing nodes accounting for 3.79s, 8.43% of 44.95s total\n" +
		"Dropped 105 nodes (cum <= 0.22s)\n" +
		"      flat  flat%   sum%        cum   cum%\n" +
		"    1.50s 50% 50%  2.5s 80%  a.b\n" +
		"    20ms 1% 51%  1.2min 90%  c.(*d).e\n" +
		"  not a row\n")
	assert.Equal(t, []ProfileRow{{"a.b", 1.5, 2.5}, {"c.(*d).e", 0.02, 72}}, rows)
	assert.Equal(t, "Dropped 105 nodes (cum <= 0.22s)", dropped)

	// A profile that leaves functions out makes no table by package.
	in := inputs{profile: rows, profileDropped: dropped}
	assert.Contains(t, renderProfile(&in), "leaves functions out (pprof: Dropped 105 nodes")
}

func TestReplaceSection(t *testing.T) {
	s := section{id: "micro", title: "Processor micro-benchmarks"}
	doc := "# Benchmarks\n\nintro\n\n## Notes\n\nhand-written\n"
	once := replaceSection(doc, s, "table one")
	assert.Equal(t, "# Benchmarks\n\nintro\n\n## Processor micro-benchmarks\n\n"+beginMarker("micro")+"\ntable one\n"+endMarker("micro")+"\n\n## Notes\n\nhand-written\n", once,
		"a new section goes before the first hand-written one")
	twice := replaceSection(once+"\nafter the notes\n", s, "table two")
	assert.Contains(t, twice, beginMarker("micro")+"\ntable two\n"+endMarker("micro")+"\n\n## Notes\n\nhand-written\n\nafter the notes\n")
	assert.NotContains(t, twice, "table one")
	assert.Equal(t, 1, strings.Count(twice, "## Processor micro-benchmarks"))
}

func testInputs(t *testing.T, dir string) inputs {
	in := inputs{count: "6", benchtime: "1s"}
	in.read(dir)
	in.machine = machineFacts{now: time.Date(2026, 11, 29, 19, 0, 0, 0, time.UTC), cpu: "a CPU", threads: "one thread per core",
		memory: "7.8 GiB", os: "linux amd64", kernel: "6.1", goVersion: "go1.26.8", loadNow: "1.00 1.00 1.00", cpus: 2}
	return in
}

// TestUpdate renders every section from the test data into a document with hand-written parts.
func TestUpdate(t *testing.T) {
	in := testInputs(t, "testdata")
	require.NoError(t, in.statsErr)
	require.NoError(t, in.e2eErr)
	doc := in.update("# Benchmarks\n\n## Rules as data\n\nmeasured by hand\n")
	for _, s := range sections {
		assert.Equal(t, 1, strings.Count(doc, beginMarker(s.id)), s.id)
	}
	assert.Contains(t, doc, "## Rules as data\n\nmeasured by hand\n", "hand-written sections stay")
	assert.Less(t, strings.Index(doc, endMarker("profile")), strings.Index(doc, "## Rules as data"))

	st, _ := in.stats.Get(rootPkg, "Unrelated", "sec/op")
	floor, _ := in.stats.Get(rootPkg, "UnrelatedFloor", "sec/op")
	row := "| `Unrelated`: 1000 application logs | " + strconv.FormatFloat(st.Center*1e9/1000, 'f', 0, 64) + " ± 13% | " +
		strconv.FormatFloat(floor.Center*1e9/1000, 'f', 0, 64) + " | " + strconv.FormatFloat(st.Center/floor.Center, 'f', 1, 64) + " | "
	assert.Contains(t, doc, row)
	assert.Contains(t, doc, "Unrelated records: no allocation at all")
	assert.Contains(t, doc, "| IPv4 | 85.5 ± 0% | **met** (≤ 128 B) |")
	assert.Contains(t, doc, "| the logon alone | 7.6 µs | 36.2 µs ± 187% | ")
	assert.Contains(t, doc, "| realistic mix | 1K | ")
	assert.Contains(t, doc, "per waiting logon: **")
	assert.Contains(t, doc, "| the logon alone | ")
	assert.Contains(t, doc, "| 1 | plain | 93.3 k | 5.37 |")
	assert.Contains(t, doc, "| idle collector | 200 | 0.91 ms |")
	assert.Contains(t, doc, "| `internal/window` | ")
	assert.Contains(t, doc, "load average (1, 5, 15 min) | micro-benchmarks: 1.10 1.20 1.30 before")
	assert.Contains(t, doc, "benchstat of every benchmark")

	again := in.update(doc)
	assert.Equal(t, doc, again, "regenerating from the same results changes nothing")
}

// TestUpdateWithoutResults: every section says what is missing instead of failing.
func TestUpdateWithoutResults(t *testing.T) {
	in := testInputs(t, t.TempDir())
	doc := in.update("")
	assert.True(t, strings.HasPrefix(doc, "# Benchmarks\n"))
	assert.Contains(t, doc, "No micro-benchmark results (`out/benchstat.csv`: ")
	assert.Contains(t, doc, "No end-to-end results (`out/e2e.json`: ")
	assert.Contains(t, doc, "No profile (`out/profile.txt`)")
}

// TestRun writes the file it is given.
func TestRun(t *testing.T) {
	out := filepath.Join(t.TempDir(), "BENCHMARKS.md")
	require.NoError(t, os.WriteFile(out, []byte("# Benchmarks\n\n## Notes\n\nkept\n"), 0o644))
	require.NoError(t, run("testdata", out, inputs{count: "6", benchtime: "1s"}))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Contains(t, string(b), beginMarker("micro"))
	assert.Contains(t, string(b), "## Notes\n\nkept\n")
}

// TestRenderCheckpoints: the checkpoint benchmarks' custom units, as benchstat writes them (MB as
// B, µs kept), land in their cells.
func TestRenderCheckpoints(t *testing.T) {
	csv := "pkg: " + rootPkg + "\n,f.txt,\n,base-B,CI\nCheckpointTracked1M-2,2.913e+08,∞\n" +
		",batch-max-µs,CI\nCheckpointTracked1M-2,141073,∞\n,restore-s,CI\nCheckpointTracked1M-2,4.351,∞\n" +
		",restore-cpu-s,CI\nCheckpointTracked1M-2,1.436,∞\n,batch-own-p99-µs,CI\nCheckpointTracked1M-2,1850,∞\n" +
		",batch-heap-peak-B,CI\nCheckpointTracked1M-2,2.4e+09,∞\n" +
		"pkg: " + statePkg + "\n,f.txt,\n,sec/op,CI\nRestoreTracked1M-2,3.55,∞\n,cpu-s/op,CI\nRestoreTracked1M-2,1.41,∞\n" +
		",sec/op,CI\nCompactTracked1M-2,2.2,∞\n,cpu-s/op,CI\nCompactTracked1M-2,1.36,∞\n"
	stats, err := ParseBenchstatCSV(strings.NewReader(csv))
	require.NoError(t, err)
	out := renderCheckpoints(&inputs{stats: stats})
	assert.Contains(t, out, "| 1M | 291.3 MB | – / – ms | – / 141.1 ms | – / –, 1.9 / – ms | – s (– s, 2400.0 MB) |")
	assert.Contains(t, out, "| – / – | – / – | 4.35 s (1.44 s) |")
	assert.Contains(t, out, "| 3.55 s (1.41 s) | – | 2.20 s (1.36 s) |")
	assert.NotContains(t, out, "| 100K | 2", "no 100K results, no row of figures")
}
