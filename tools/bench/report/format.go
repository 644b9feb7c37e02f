package main

import (
	"fmt"
	"math"
)

func verdictAtLeast(v, target float64) string {
	if v >= target {
		return fmt.Sprintf("**met** (%.1f%%).", 100*v)
	}
	return fmt.Sprintf("**missed** by %.1f percentage points (%.1f%% against %.0f%%).", 100*(target-v), 100*v, 100*target)
}

func verdictAtMost(v, target float64, unit string) string {
	if v <= target {
		return fmt.Sprintf("**met** (≤ %g%s)", target, unit)
	}
	return fmt.Sprintf("**missed** by %.0f%% (%.2f%s against %g%s)", 100*(v/target-1), v, unit, target, unit)
}

func si(v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case v >= 1e6:
		return fmt.Sprintf("%.2f M", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1f k", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func dur(ns float64) string {
	switch {
	case math.IsNaN(ns):
		return "–"
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

// num formats v, or "–" when it is not a number (a benchmark that did not run).
func num(v float64, format string) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}
