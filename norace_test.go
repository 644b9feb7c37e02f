//go:build !race

package aadhostlogincorrelation

// modelScenarios is how many random scenarios a model test runs (fewer under the race detector).
func modelScenarios(n int) int { return n }
