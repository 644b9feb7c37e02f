// Command report writes the results of `make bench` into BENCHMARKS.md. It regenerates only its own
// sections, each between marker comments, and leaves the rest of the file (other sections, and text
// after a section's end marker) as it is. make bench-report runs it from the repository root:
//
//	out/bench-report -dir out -o BENCHMARKS.md
//
// Its inputs, in -dir, are results files, never the processor's code: benchstat.csv (benchstat
// -format csv of the micro-benchmarks; benchmark names and units are all it reads), benchstat.txt
// (the same, as text, shown whole), profile.txt (go tool pprof -top of the realistic mix, every
// function, the processor's samples only), e2e.json (tools/bench/e2e) and bench-load.txt (load
// averages noted by the Makefile). A missing input leaves its section saying so.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/secops-otel/aadhostlogincorrelation/tools/bench/e2e/result"
)

func main() {
	out := flag.String("o", "BENCHMARKS.md", "the file to update")
	dir := flag.String("dir", "out", "where make bench left its results")
	var in inputs
	flag.StringVar(&in.count, "count", "6", "the -count of the micro-benchmarks (for the commands shown)")
	flag.StringVar(&in.benchtime, "benchtime", "1s", "the -benchtime of the micro-benchmarks (for the commands shown)")
	flag.StringVar(&in.e2eFlags, "e2e-flags", "", "extra flags tools/bench/e2e ran with (for the commands shown)")
	flag.Parse()
	if err := run(*dir, *out, in); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
	fmt.Printf("report: wrote %s\n", *out)
}

// run reads the results in dir and updates the sections of the file out.
func run(dir, out string, in inputs) error {
	in.read(dir)
	old, err := os.ReadFile(out)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(out, []byte(in.update(string(old))), 0o644)
}

// inputs are what make bench left, read.
type inputs struct {
	count, benchtime, e2eFlags string
	stats                      Stats
	statsErr                   error
	benchstatText              string
	profile                    []ProfileRow
	profileDropped             string // pprof left functions out: the shares by package would be wrong
	e2e                        *result.Report
	e2eErr                     error
	loads                      map[string]string // step → "1 5 15" load averages
	machine                    machineFacts
}

func (in *inputs) read(dir string) {
	if f, err := os.Open(filepath.Join(dir, "benchstat.csv")); err != nil {
		in.statsErr = err
	} else {
		in.stats, in.statsErr = ParseBenchstatCSV(f)
		_ = f.Close()
	}
	in.benchstatText = readText(filepath.Join(dir, "benchstat.txt"))
	in.profile, in.profileDropped = ParsePprofTop(readText(filepath.Join(dir, "profile.txt")))
	in.e2e, in.e2eErr = readE2E(filepath.Join(dir, "e2e.json"))
	in.loads = readLoads(filepath.Join(dir, "bench-load.txt"))
	in.machine = thisMachine()
}

// update regenerates every section of doc.
func (in *inputs) update(doc string) string {
	if strings.TrimSpace(doc) == "" {
		doc = "# Benchmarks\n"
	}
	for _, s := range sections {
		doc = replaceSection(doc, s, s.render(in))
	}
	return doc
}

func readText(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimRight(string(b), "\n")
}

func readE2E(path string) (*result.Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r result.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	return &r, nil
}

// readLoads reads lines "step 1min 5min 15min".
func readLoads(path string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(readText(path), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 {
			m[f[0]] = strings.Join(f[1:4], " ")
		}
	}
	return m
}

func (in *inputs) load(step string) string {
	if l, ok := in.loads[step]; ok {
		return l
	}
	return "not noted"
}
