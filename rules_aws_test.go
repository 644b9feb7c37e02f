package aadhostlogincorrelation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// consoleLogin adds an AWS console login as a raw CloudTrail event in a map body.
func (b *batch) consoleLogin(c shapes.ConsoleLogin) *batch {
	c.Shape = shapes.CloudTrailEvent
	c.Fill(b.record(map[string]string{"cloud.provider": "aws"}))
	return b
}

// consoleFailures adds n failed console logins from ip, one second apart from t.
func (b *batch) consoleFailures(ip string, n int, t time.Time) *batch {
	for i := range n {
		b.consoleLogin(shapes.ConsoleLogin{Result: "Failure", Addr: ip, Time: t.Add(time.Duration(i) * time.Second)})
	}
	return b
}

// TestRuleCAlert: rule C's alert projects the console login's columns, its failures are the seed's
// (counted once when both run), and the seed does not alert on a console login.
func TestRuleCAlert(t *testing.T) {
	h := newHarness(t, withRules("aad-then-host", "643c2025-9604-47c5-833f-7b4b9378a1f5"))
	loginAt := at(time.Minute)
	alerts := h.consume(newBatch().failures(signinLogs, attackerIP, 7, at(0)).
		consoleLogin(shapes.ConsoleLogin{Addr: "::ffff:" + attackerIP, UserName: "alice", MFA: "Yes", Time: loginAt}))
	require.Len(t, alerts, 1)
	a := alerts[0]
	r := &rules.AADThenAWSConsole
	assert.Equal(t, r.Reason, a.Body().Str())
	assert.Equal(t, loginAt.UnixNano(), int64(a.Timestamp()))
	when := loginAt.UTC().Format(time.RFC3339Nano)
	ua, _ := a.Attributes().Get("UserAgent")
	assert.Contains(t, ua.Str(), "Mozilla/5.0")
	assert.Equal(t, map[string]any{
		"Reason": r.Reason, "TimeGenerated": when, "timestamp": when,
		"LoginResult": "Success", "EventTypeName": "AwsConsoleSignIn", "UserIdentityType": "IAMUser",
		"User": "alice", "AWSRegion": "us-east-1", "SourceIpAddress": attackerIP, "UserAgent": ua.Str(), "MFAUsed": "Yes",
		"SigninTable": signinLogs, "FailedSignInCount": int64(7),
		"FirstFailedSignIn":  at(0).UTC().Format(time.RFC3339Nano),
		"LastFailedSignIn":   at(6 * time.Second).UTC().Format(time.RFC3339Nano),
		"security_rule.uuid": r.ID, "security_rule.name": r.Name,
		"security_rule.ruleset.name": "Microsoft Sentinel", "security_rule.version": r.Version,
		"source.address": attackerIP, "user.name": "alice",
		"threat.tactic.name":  []any{"InitialAccess", "CredentialAccess"},
		"threat.technique.id": []any{"T1078", "T1110"},
	}, a.Attributes().AsRaw())
	assert.Equal(t, map[string]int64{"aad-then-aws-console": 1}, metricByAttr(t, h, "alerts", "rule"))
	assert.Equal(t, int64(7), metricSum(t, h, "failed_signins"), "failures of both rules are kept once")

	// A root login has no user name: User is the identity type. A failed login or one from an
	// excluded address does not alert.
	alerts = h.consume(newBatch().
		consoleLogin(shapes.ConsoleLogin{IdentityType: "Root", Time: loginAt}).
		consoleLogin(shapes.ConsoleLogin{Result: "Failure", Time: loginAt}))
	require.Len(t, alerts, 1)
	user, _ := alerts[0].Attributes().Get("User")
	assert.Equal(t, "Root", user.Str())
}

// TestRuleDAlert: rule D counts failed console logins (not successful ones, as its published KQL
// does) and alerts on a successful SigninLogs sign-in with the sign-in's row.
func TestRuleDAlert(t *testing.T) {
	h := newHarness(t, withRules("aws-console-then-aad"))
	signInAt := at(2 * time.Minute)
	b := newBatch().consoleFailures(attackerIP, 6, at(0)).
		consoleFailures("127.0.0.1", 6, at(0)).                                                  // excluded
		consoleLogin(shapes.ConsoleLogin{Result: "Success", Addr: "198.51.100.4", Time: at(0)}). // successes do not count
		signin(nonInter, attackerIP, "0", signInAt).                                             // not SigninLogs
		signin(signinLogs, "127.0.0.1", "0", signInAt).
		signin(signinLogs, attackerIP, "50126", signInAt) // a failure
	assert.Empty(t, h.consume(b))
	for range 5 {
		h.consume(newBatch().consoleLogin(shapes.ConsoleLogin{Result: "Success", Addr: "198.51.100.4", Time: at(0)}))
	}
	assert.Empty(t, h.consume(newBatch().signin(signinLogs, "198.51.100.4", "0", signInAt)), "six successful console logins are no attack")

	alerts := h.consume(newBatch().signin(signinLogs, attackerIP, "50140", signInAt))
	require.Len(t, alerts, 1)
	a := alerts[0]
	r := &rules.AWSConsoleThenAAD
	when := signInAt.UTC().Format(time.RFC3339Nano)
	assert.Equal(t, map[string]any{
		"Reason": r.Reason, "TimeGenerated": when, "timestamp": when,
		"Type": signinLogs, "UserPrincipalName": "adele@contoso.com", "IPAddress": attackerIP, "ResultType": "50140",
		"AppDisplayName": "", "UserDisplayName": "", "ClientAppUsed": "", "Location": "",
		"AccountCustomEntity": "adele@contoso.com", "IPCustomEntity": attackerIP,
		"FailedLoginSource": "AWSCloudTrail", "FailedConsoleLoginCount": int64(6),
		"FirstFailedConsoleLogin": at(0).UTC().Format(time.RFC3339Nano),
		"LastFailedConsoleLogin":  at(5 * time.Second).UTC().Format(time.RFC3339Nano),
		"security_rule.uuid":      r.ID, "security_rule.name": r.Name,
		"security_rule.ruleset.name": "Microsoft Sentinel", "security_rule.version": r.Version,
		"source.address": attackerIP, "user.name": "adele@contoso.com",
		"threat.tactic.name":  []any{"InitialAccess", "CredentialAccess"},
		"threat.technique.id": []any{"T1078", "T1110"},
	}, a.Attributes().AsRaw())
	assert.Equal(t, "Multiple failed AWS Console logins from IP address", a.Body().Str())
}

// TestConsoleRulesByName: the configuration takes both rules by Sentinel id and short name; the
// seed alone reads no CloudTrail.
func TestConsoleRulesByName(t *testing.T) {
	for _, name := range []string{"643c2025-9604-47c5-833f-7b4b9378a1f5", "AAD-then-AWS-console", "910124df-913c-47e3-a7cd-29e1643fa55e", "aws-console-then-aad"} {
		cfg := createDefaultConfig().(*Config)
		withRules(name)(cfg)
		require.NoError(t, cfg.Validate(), name)
	}
	h := newHarness(t, nil)
	h.consume(newBatch().consoleFailures(attackerIP, 3, at(0)).consoleLogin(shapes.ConsoleLogin{}))
	assert.Equal(t, map[string]int64{"unrelated": 4}, metricByAttr(t, h, "records", "kind"))
}

// metricSum is the total of a metric without attributes.
func metricSum(t *testing.T, h *harness, name string) int64 {
	t.Helper()
	var n int64
	for _, v := range metricByAttr(t, h, name, "none") {
		n += v
	}
	return n
}
