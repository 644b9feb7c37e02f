package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFind(t *testing.T) {
	for _, r := range All {
		got, ok := Find(r.ID)
		require.True(t, ok)
		assert.Same(t, r, got)
		got, ok = Find(strings.ToUpper(r.Short))
		require.True(t, ok)
		assert.Same(t, r, got)
	}
	_, ok := Find("no-such-rule")
	assert.False(t, ok)
}

func TestCompileSeed(t *testing.T) {
	p := Compile([]Running{{Rule: &AADThenHost, Threshold: 5, Window: time.Hour}})
	require.Len(t, p.Engine.Rules, 1)
	assert.Equal(t, []int{0, 1}, p.Engine.Rules[0].Counters, "one counter per sign-in table")
	assert.Equal(t, "SigninLogs", p.CounterName(0))
	assert.Equal(t, "AADNonInteractiveUserSignInLogs", p.CounterName(1))
	assert.Equal(t, []int{0}, p.FailureCounters[FailedSigninLogs])
	assert.Equal(t, []int{0}, p.SuccessRules[HostLogon])
	assert.False(t, p.Counts(FailedSyslogLogons))
	assert.False(t, p.Takes(SigninLogsSuccess))

	p = Compile([]Running{{Rule: &AADThenHost, Threshold: 5, Window: time.Hour, Together: true}})
	assert.Equal(t, []int{0}, p.Engine.Rules[0].Counters)
	assert.Equal(t, "SigninLogs+AADNonInteractiveUserSignInLogs", p.CounterName(0))
	assert.Equal(t, []int{0}, p.FailureCounters[FailedNonInteractiveSignIns])
}

func TestCompileBothRules(t *testing.T) {
	p := Compile([]Running{
		{Rule: &AADThenHost, Threshold: 5, Window: time.Hour},
		{Rule: &HostThenAAD, Threshold: 3, Window: 2 * time.Hour, Suppress: time.Minute},
	})
	cfg := p.Engine
	cfg.MaxTrackedIPs, cfg.MaxPendingLogons = 10, 10
	require.NoError(t, cfg.Check(), "the engine takes the plan once bounds are set")
	assert.Equal(t, []int{2, 3, 4}, p.Engine.Rules[1].Counters)
	assert.Equal(t, int64(time.Minute), p.Engine.Rules[1].Suppress)
	assert.Equal(t, []int{4}, p.FailureCounters[FailedSyslogLogons])
	assert.Equal(t, []int{1}, p.SuccessRules[NonInteractiveSuccess])
	assert.Equal(t, []int{0}, p.SuccessRules[HostLogon])
}

// A counter is shared by rules that count the same source with the same threshold and window.
func TestCompileSharesCounters(t *testing.T) {
	twin := AADThenHost
	twin.ID, twin.Short = "twin", "twin"
	p := Compile([]Running{
		{Rule: &AADThenHost, Threshold: 5, Window: time.Hour},
		{Rule: &twin, Threshold: 5, Window: time.Hour},
		{Rule: &twin, Threshold: 5, Window: 2 * time.Hour},
	})
	assert.Equal(t, []int{0, 1}, p.Engine.Rules[1].Counters, "same sources, threshold and window: kept once")
	assert.Equal(t, []int{2, 3}, p.Engine.Rules[2].Counters, "another window: counted apart")
	assert.Equal(t, []int{0, 2}, p.FailureCounters[FailedSigninLogs])
}
