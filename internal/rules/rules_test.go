package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
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
	assert.Equal(t, []int{0}, p.FailureCounters[classify.FailedSigninLogs])
	assert.Equal(t, []int{0}, p.SuccessRules[classify.LinuxLogon])
	assert.Equal(t, []int{0}, p.SuccessRules[classify.SecurityEventLogon])
	assert.Equal(t, []int{0}, p.SuccessRules[classify.WindowsEventLogon])
	assert.ElementsMatch(t, []classify.Kind{classify.FailedSigninLogs, classify.FailedNonInteractiveSignIn,
		classify.LinuxLogon, classify.SecurityEventLogon, classify.WindowsEventLogon}, p.Kinds(), "what the classifier is asked for")
	assert.False(t, p.Counts(classify.FailedSyslogLogon))
	assert.False(t, p.Takes(classify.SigninLogsSuccess))

	p = Compile([]Running{{Rule: &AADThenHost, Threshold: 5, Window: time.Hour, Together: true}})
	assert.Equal(t, []int{0}, p.Engine.Rules[0].Counters)
	assert.Equal(t, "SigninLogs+AADNonInteractiveUserSignInLogs", p.CounterName(0))
	assert.Equal(t, []int{0}, p.FailureCounters[classify.FailedNonInteractiveSignIn])
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
	assert.Equal(t, []int{4}, p.FailureCounters[classify.FailedSyslogLogon])
	assert.Equal(t, []int{1}, p.SuccessRules[classify.NonInteractiveSuccess])
	assert.Equal(t, []int{0}, p.SuccessRules[classify.LinuxLogon])
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
	assert.Equal(t, []int{0, 2}, p.FailureCounters[classify.FailedSigninLogs])
}

// The fingerprint tells apart rule sets whose numbers are alike, and is "" for the seed alone.
func TestFingerprint(t *testing.T) {
	plan := func(rs ...Running) string { p := Compile(rs); return p.Fingerprint() }
	seed := Running{Rule: &AADThenHost, Threshold: 5, Window: time.Hour}
	seedTogether := seed
	seedTogether.Together = true
	b := Running{Rule: &HostThenAAD, Threshold: 5, Window: time.Hour}
	twin := AADThenHost
	twin.ID = "twin"
	assert.Empty(t, plan(seed), "the seed alone keeps what it always wrote")
	assert.Empty(t, plan(seedTogether), "the seed alone keeps what it always wrote")
	prints := map[string]bool{"": true}
	for _, fp := range []string{plan(b), plan(seed, b), plan(b, seed), plan(Running{Rule: &twin, Threshold: 5, Window: time.Hour})} {
		assert.NotEmpty(t, fp)
		assert.False(t, prints[fp], "fingerprint %q twice", fp)
		prints[fp] = true
	}
	assert.Equal(t, "twin,SigninLogs:AADNonInteractiveUserSignInLogs", plan(Running{Rule: &twin, Threshold: 5, Window: time.Hour}))
}

func TestKQLColumns(t *testing.T) {
	for _, tc := range []struct {
		computer, host string
		dot            int
		domain         string
	}{
		{"web01.contoso.com", "web01", 5, "contoso.com"},
		{"DC01", "DC01", -1, "DC01"},
		{"", "", -1, ""},
		{".x", "", 0, "x"},
	} {
		host, dot, domain := SplitComputer(tc.computer)
		assert.Equal(t, []any{tc.host, tc.dot, tc.domain}, []any{host, dot, domain}, tc.computer)
	}
	assert.Equal(t, "Machine", AccountType(`CONTOSO\WIN-FS01$`))
	assert.Equal(t, "User", AccountType(`CONTOSO\alice`))
	assert.Equal(t, "", AccountType(""))
}

// Every rule declares its projection.
func TestEveryRuleProjects(t *testing.T) {
	for _, r := range All {
		assert.NotNil(t, r.Project, r.Short)
	}
}

// Every rule registers itself once, the seed first.
func TestRegister(t *testing.T) {
	require.NotEmpty(t, All)
	assert.Same(t, &AADThenHost, All[0])
	seen := map[*Rule]bool{}
	for _, r := range All {
		assert.False(t, seen[r], "%s registered twice", r.Short)
		seen[r] = true
	}
}
