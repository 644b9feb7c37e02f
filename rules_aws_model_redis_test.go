//go:build redis

package aadhostlogincorrelation

import (
	"testing"

	"github.com/secops-otel/aadhostlogincorrelation/internal/redistest"
)

// TestConsoleRulesAgainstTheModelRedis runs the scenarios with the state in a real Redis; a restart
// is a new processor on the same keys.
func TestConsoleRulesAgainstTheModelRedis(t *testing.T) {
	srv := redistest.Start(t)
	runAWSScenarios(t, "redis", func(t *testing.T) func() (*harness, func()) {
		prefix := useRedis(srv)
		return func() (*harness, func()) {
			h := newHarness(t, func(c *Config) { prefix(c); awsRules(c) })
			return h, func() {}
		}
	}, modelScenarios(40), 43)
}
