package main

import (
	"slices"
	"strconv"
	"strings"
)

// ProfileRow is one function of `go tool pprof -top`: its flat and cumulative seconds.
type ProfileRow struct {
	Func      string
	Flat, Cum float64
}

// ParsePprofTop reads the rows of `go tool pprof -top` (after the "flat flat% sum% cum cum%" header).
// Rows it cannot read are left out; an "(inline)" mark is dropped from the name. dropped is what
// pprof says it left out ("Dropped 105 nodes (cum <= 0.22s)"), empty when it showed every function
// (-nodefraction 0).
func ParsePprofTop(text string) (rows []ProfileRow, dropped string) {
	inRows := false
	for _, line := range strings.Split(text, "\n") {
		if t := strings.TrimSpace(line); strings.HasPrefix(t, "Dropped ") && !inRows {
			dropped = t
		}
		if strings.Contains(line, "flat%") && strings.Contains(line, "cum%") {
			inRows = true
			continue
		}
		f := strings.Fields(line)
		if !inRows || len(f) < 6 {
			continue
		}
		flat, err1 := parseSeconds(f[0])
		cum, err2 := parseSeconds(f[3])
		if err1 != nil || err2 != nil {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (inline)")
		rows = append(rows, ProfileRow{Func: name, Flat: flat, Cum: cum})
	}
	return rows, dropped
}

// parseSeconds reads pprof's durations: "1.20s", "350ms", "12us", "0".
func parseSeconds(s string) (float64, error) {
	for _, u := range []struct {
		suffix string
		scale  float64
	}{{"ms", 1e-3}, {"us", 1e-6}, {"µs", 1e-6}, {"ns", 1e-9}, {"s", 1}, {"min", 60}, {"h", 3600}} {
		if strings.HasSuffix(s, u.suffix) {
			v, err := strconv.ParseFloat(strings.TrimSuffix(s, u.suffix), 64)
			return v * u.scale, err
		}
	}
	return strconv.ParseFloat(s, 64)
}

// FuncPackage is the import path of a Go symbol as pprof names it: up to the first dot after the
// last slash ("example.com/a/b.(*T).M" → "example.com/a/b", "runtime.mallocgc" → "runtime").
// Symbols the compiler makes (type:.eq..., for instance) and assembly routines without a package
// prefix count as the runtime's; the type arguments
// of a generic symbol ("pkg.(*T[go.shape.struct { other/pkg.f string }]).M") do not count.
func FuncPackage(fn string) string {
	if strings.HasPrefix(fn, "type:") || strings.HasPrefix(fn, "go:") {
		return "runtime"
	}
	if i := strings.IndexByte(fn, '['); i >= 0 {
		fn = fn[:i]
	}
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return "runtime" // the assembly routines of the runtime and internal/bytealg: indexbytebody, aeshashbody
	}
	return fn[:slash+1+dot]
}

// PackageShare is the flat time of one package's functions, as a share of the profile's.
type PackageShare struct {
	Package string
	Flat    float64
	Share   float64 // 0..1
}

// FlatByPackage adds up the flat time of rows by package, largest first (ties by name). The
// shares are of the total of all rows, so rows must be every function of the profile
// (pprof -nodecount large enough).
func FlatByPackage(rows []ProfileRow) []PackageShare {
	sum := map[string]float64{}
	total := 0.0
	for _, r := range rows {
		sum[FuncPackage(r.Func)] += r.Flat
		total += r.Flat
	}
	out := make([]PackageShare, 0, len(sum))
	for p, v := range sum {
		share := 0.0
		if total > 0 {
			share = v / total
		}
		out = append(out, PackageShare{Package: p, Flat: v, Share: share})
	}
	slices.SortFunc(out, func(a, b PackageShare) int {
		if a.Flat != b.Flat {
			if a.Flat > b.Flat {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Package, b.Package)
	})
	return out
}
