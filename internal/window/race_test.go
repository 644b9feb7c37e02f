//go:build race

package window

// modelScenarios is how many random scenarios a model test runs: fewer under the race detector,
// which makes each some ten times slower and has interleavings, not volume, to find.
func modelScenarios(n int) int { return n / 5 }
