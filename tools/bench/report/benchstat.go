package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Stat is one benchmark's summary in one unit, as benchstat computed it: the center (median) and
// the confidence interval it printed ("∞" when there were too few runs, "2%" and the like).
type Stat struct {
	Center float64
	CI     string
}

// Stats are benchstat's summaries of one results file, and the CPU it names.
type Stats struct {
	CPU string
	// package → benchmark (without "Benchmark" and the -GOMAXPROCS suffix) → unit (benchstat's:
	// sec/op, B/op, allocs/op, sec/record, heap-B/ip, ...) → summary
	byPkg map[string]map[string]map[string]Stat
}

// ParseBenchstatCSV reads the output of `benchstat -format csv` of one results file. Each table
// starts with a row naming the file and a row naming the unit; its rows are benchmark, center, CI.
// The geomean rows are left out. Configuration lines (pkg: ...) set the package of what follows.
func ParseBenchstatCSV(r io.Reader) (Stats, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	stats := Stats{byPkg: map[string]map[string]map[string]Stat{}}
	pkg, unit := "", ""
	line := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return Stats{}, fmt.Errorf("benchstat csv: %w", err)
		}
		line++
		switch {
		case len(rec) == 1:
			switch k, v, _ := strings.Cut(rec[0], ":"); k {
			case "pkg":
				pkg = strings.TrimSpace(v)
			case "cpu":
				stats.CPU = strings.TrimSpace(v)
			}
		case len(rec) >= 3 && rec[0] == "":
			// The file row (",bench.txt,") or the unit row (",sec/op,CI").
			if rec[2] == "CI" {
				unit = rec[1]
			}
		case len(rec) >= 3:
			if unit == "" {
				return Stats{}, fmt.Errorf("benchstat csv: record %d (%q) comes before any unit row", line, rec[0])
			}
			if rec[0] == "geomean" || rec[1] == "" {
				continue
			}
			v, err := strconv.ParseFloat(rec[1], 64)
			if err != nil {
				return Stats{}, fmt.Errorf("benchstat csv: record %d (%s, %s): value %q: %w", line, rec[0], unit, rec[1], err)
			}
			name := benchName(rec[0])
			if stats.byPkg[pkg] == nil {
				stats.byPkg[pkg] = map[string]map[string]Stat{}
			}
			if stats.byPkg[pkg][name] == nil {
				stats.byPkg[pkg][name] = map[string]Stat{}
			}
			stats.byPkg[pkg][name][unit] = Stat{Center: v, CI: rec[2]}
		}
	}
	return stats, nil
}

// benchName strips the -GOMAXPROCS suffix benchstat keeps ("Unrelated-2" → "Unrelated").
func benchName(s string) string {
	if i := strings.LastIndexByte(s, '-'); i > 0 {
		if _, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i]
		}
	}
	return s
}

// Get returns a benchmark's summary in unit, and whether there is one.
func (s Stats) Get(pkg, bench, unit string) (Stat, bool) {
	st, ok := s.byPkg[pkg][bench][unit]
	return st, ok
}

// Value returns a benchmark's center in unit, NaN when there is none.
func (s Stats) Value(pkg, bench, unit string) float64 {
	if st, ok := s.Get(pkg, bench, unit); ok {
		return st.Center
	}
	return math.NaN()
}

// Spread is the confidence interval to write after a figure: " ± 2%", or nothing when benchstat had
// too few runs to say.
func (st Stat) Spread() string {
	if st.CI == "" || st.CI == "∞" {
		return ""
	}
	return " ± " + st.CI
}
