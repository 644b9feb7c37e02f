//go:build race

package aadhostlogincorrelation

// modelScenarios is how many random scenarios a model test runs: fewer under the race detector,
// which makes each some ten times slower and has interleavings, not volume, to find.
func modelScenarios(n int) int { return max(1, n/5) }
