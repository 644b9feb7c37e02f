package aadhostlogincorrelation

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// hostFailures adds n failed host logons from ip, one second apart from t: Windows 4625 in the
// Sentinel SecurityEvent or WindowsEvent shape, or sshd "Failed password" lines as the syslog
// receiver emits them.
func (b *batch) hostFailures(source, ip string, n int, t time.Time) *batch {
	for i := 0; i < n; i++ {
		at := t.Add(time.Duration(i) * time.Second)
		switch source {
		case "Syslog":
			b.sshd("web01", "sshd", shapes.SSHD{Event: "Failed", InvalidUser: true, User: "admin", Addr: ip, Port: 4711}.String(), 4, at)
		default:
			shape := shapes.SecurityEventRow
			if source == "WindowsEvent" {
				shape = shapes.WindowsEventRow
			}
			b.add(map[string]string{"host.name": "dc01.contoso.com"}, shapes.Windows{Shape: shape, EventID: 4625, Computer: "dc01.contoso.com",
				Addr: ip, User: "administrator", Numbers: true, Time: at}.Fill, at)
		}
	}
	return b
}

// ruleSummary is what identifies an alert of any rule.
type ruleSummary struct{ Rule, IP, Source, Success string }

func summarizeRules(alerts []plog.LogRecord) []ruleSummary {
	out := []ruleSummary{}
	for _, a := range alerts {
		get := func(k string) string { v, _ := a.Attributes().Get(k); return v.AsString() }
		s := ruleSummary{Rule: get("security_rule.uuid"), IP: get("source.address")}
		if s.Rule == rules.HostThenAAD.ID {
			s.Source, s.Success = get("FailedLogonSource"), get("Type")
		} else {
			s.Source, s.Success = get("SigninTable"), get("LogonSource")
		}
		out = append(out, s)
	}
	return out
}

func withRules(names ...string) func(*Config) {
	return func(c *Config) {
		for _, n := range names {
			c.Rules = append(c.Rules, RuleConfig{ID: n})
		}
	}
}

// reverseRuleCase is a batch through a processor running rules, and the alerts it must make.
type reverseRuleCase struct {
	name  string
	rules []string
	batch *batch
	want  []ruleSummary
}

// reverseRuleCases are rule B ("Failed host logons but success logon to AzureAD"), alone and with
// the seed: the memory state runs them here, the Redis state in processor_redis_test.go.
func reverseRuleCases() []reverseRuleCase {
	b, a := rules.HostThenAAD.ID, rules.AADThenHost.ID
	return []reverseRuleCase{
		{"six SecurityEvent 4625 then a successful sign-in", []string{"host-then-aad"},
			newBatch().hostFailures("SecurityEvent", attackerIP, 6, at(0)).signin(signinLogs, attackerIP, "0", at(time.Minute)),
			[]ruleSummary{{b, attackerIP, "SecurityEvent", signinLogs}}},
		{"five are not more than the threshold", []string{"host-then-aad"},
			newBatch().hostFailures("SecurityEvent", attackerIP, 5, at(0)).signin(signinLogs, attackerIP, "0", at(time.Minute)),
			[]ruleSummary{}},
		{"sources count apart: 3 + 3 does not alert", []string{"host-then-aad"},
			newBatch().hostFailures("SecurityEvent", attackerIP, 3, at(0)).hostFailures("WindowsEvent", attackerIP, 3, at(0)).
				signin(signinLogs, attackerIP, "0", at(time.Minute)),
			[]ruleSummary{}},
		{"WindowsEvent 4625 and a non-interactive sign-in (ResultType 50125)", []string{"host-then-aad"},
			newBatch().hostFailures("WindowsEvent", attackerIP, 6, at(0)).signin(nonInter, attackerIP, "50125", at(time.Minute)),
			[]ruleSummary{{b, attackerIP, "WindowsEvent", nonInter}}},
		{"sshd failures, IPv6, a successful sign-in before them", []string{"host-then-aad"},
			newBatch().signin(signinLogs, "2001:db8::7", "0", at(0)).hostFailures("Syslog", "2001:db8:0::7", 6, at(time.Minute)),
			[]ruleSummary{{b, "2001:db8::7", "Syslog", signinLogs}}},
		{"a failed sign-in is no success", []string{"host-then-aad"},
			newBatch().hostFailures("SecurityEvent", attackerIP, 6, at(0)).signin(signinLogs, attackerIP, "50126", at(time.Minute)),
			[]ruleSummary{}},
		{"the seed alone ignores host failures", nil,
			newBatch().hostFailures("SecurityEvent", attackerIP, 6, at(0)).signin(signinLogs, attackerIP, "0", at(time.Minute)),
			[]ruleSummary{}},
		{"both rules, each its own attack", []string{"aad-then-host", "host-then-aad"},
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).
				hostFailures("Syslog", "198.51.100.9", 6, at(0)).signin(nonInter, "198.51.100.9", "0", at(time.Minute)),
			[]ruleSummary{{a, attackerIP, signinLogs, "Syslog"}, {b, "198.51.100.9", "Syslog", nonInter}}},
	}
}

// TestReverseRuleCases runs rule B, alone and with the seed, through the processor.
func TestReverseRuleCases(t *testing.T) {
	for _, tc := range reverseRuleCases() {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, withRules(tc.rules...))
			assert.Equal(t, tc.want, summarizeRules(h.consume(tc.batch)))
		})
	}
}

// TestReverseRuleAlertColumns: rule B's alert is the sign-in row with the KQL's entities and the
// rule's identity.
func TestReverseRuleAlertColumns(t *testing.T) {
	h := newHarness(t, withRules("host-then-aad"))
	alerts := h.consume(newBatch().hostFailures("SecurityEvent", attackerIP, 7, at(0)).signin(signinLogs, attackerIP, "0", at(time.Minute)))
	require.Len(t, alerts, 1)
	a := alerts[0]
	r := &rules.HostThenAAD
	assert.Equal(t, r.Reason, a.Body().Str())
	when := at(time.Minute).UTC().Format(time.RFC3339Nano)
	want := map[string]any{
		"Reason": r.Reason, "TimeGenerated": when, "timestamp": when,
		"Type": signinLogs, "UserPrincipalName": "adele@contoso.com", "IPAddress": attackerIP, "ResultType": "0",
		"AccountCustomEntity": "adele@contoso.com", "IPCustomEntity": attackerIP,
		"FailedLogonSource": "SecurityEvent", "FailedLogonCount": int64(7),
		"FirstFailedLogon": at(0).UTC().Format(time.RFC3339Nano), "LastFailedLogon": at(6 * time.Second).UTC().Format(time.RFC3339Nano),
		"security_rule.uuid": r.ID, "security_rule.name": r.Name, "security_rule.ruleset.name": "Microsoft Sentinel",
		"security_rule.version": r.Version, "source.address": attackerIP, "user.name": "adele@contoso.com",
	}
	got := a.Attributes().AsRaw()
	for k, v := range want {
		assert.Equal(t, v, got[k], k)
	}
	_, hasHost := got["host.name"]
	assert.False(t, hasHost, "a sign-in names no host")
	assert.Equal(t, []any{"InitialAccess", "CredentialAccess"}, got["threat.tactic.name"])
}
