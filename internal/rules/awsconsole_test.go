package rules

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// Rule C counts what the seed counts: both running keep those failures once.
func TestCompileSeedAndConsoleRules(t *testing.T) {
	p := Compile([]Running{
		{Rule: &AADThenHost, Threshold: 5, Window: time.Hour},
		{Rule: &HostThenAAD, Threshold: 5, Window: time.Hour},
		{Rule: &AADThenAWSConsole, Threshold: 5, Window: time.Hour},
		{Rule: &AWSConsoleThenAAD, Threshold: 5, Window: time.Hour},
	})
	assert.Equal(t, []int{0, 1}, p.Engine.Rules[2].Counters, "rule C shares the seed's counters")
	assert.Equal(t, []int{5}, p.Engine.Rules[3].Counters)
	assert.Equal(t, "AWSCloudTrail", p.CounterName(5))
	assert.Equal(t, []int{5}, p.FailureCounters[classify.ConsoleLoginFailure])
	assert.Equal(t, []int{2}, p.SuccessRules[classify.ConsoleLoginSuccess])
	assert.Equal(t, []int{1, 3}, p.SuccessRules[classify.SigninLogsSuccess], "rule D takes SigninLogs successes only")
	assert.Equal(t, []int{1}, p.SuccessRules[classify.NonInteractiveSuccess])
	assert.Len(t, p.Counters, 6)

	// With another threshold, rule C counts on its own.
	p = Compile([]Running{
		{Rule: &AADThenHost, Threshold: 5, Window: time.Hour},
		{Rule: &AADThenAWSConsole, Threshold: 3, Window: time.Hour},
	})
	assert.Equal(t, []int{2, 3}, p.Engine.Rules[1].Counters)
}

// The fingerprint tells apart rule sets whose numbers are alike (rule D alone runs as the seed
// counting both tables together does: one counter, one rule).
func TestFingerprintConsoleRules(t *testing.T) {
	plan := func(rs ...Running) string { p := Compile(rs); return p.Fingerprint() }
	seed := Running{Rule: &AADThenHost, Threshold: 5, Window: time.Hour}
	seedTogether := seed
	seedTogether.Together = true
	c := Running{Rule: &AADThenAWSConsole, Threshold: 5, Window: time.Hour}
	d := Running{Rule: &AWSConsoleThenAAD, Threshold: 5, Window: time.Hour}
	assert.Empty(t, plan(seed), "the seed alone keeps what it always wrote")
	assert.Empty(t, plan(seedTogether), "the seed alone keeps what it always wrote")
	prints := map[string]bool{"": true}
	for _, fp := range []string{plan(c), plan(d), plan(seed, c), plan(c, seed), plan(seed, d)} {
		assert.NotEmpty(t, fp)
		assert.False(t, prints[fp], "fingerprint %q twice", fp)
		prints[fp] = true
	}
	assert.Equal(t, "643c2025-9604-47c5-833f-7b4b9378a1f5,SigninLogs:AADNonInteractiveUserSignInLogs", plan(c))
}
