package aadhostlogincorrelation

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	"go.opentelemetry.io/otel/sdk/metric/metricdata/metricdatatest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadatatest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

const (
	attackerIP = "203.0.113.7"
	signinLogs = "SigninLogs"
	nonInter   = "AADNonInteractiveUserSignInLogs"
)

// TestRuleCases runs the KQL's own cases and our improvements, each as a named scenario through
// the processor: the batch is fed in order and the alerts that come out are compared.
func TestRuleCases(t *testing.T) {
	web := "web01.contoso.com"
	for _, tc := range []struct {
		name  string
		batch *batch
		want  []summary
	}{
		// The KQL's own cases.
		{"six failures then an sshd logon alerts",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
		{"five failures are not more than the threshold",
			newBatch().failures(signinLogs, attackerIP, 5, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{}},
		{"ResultType 0, 50125 and 50140 are not failures",
			newBatch().failures(signinLogs, attackerIP, 5, at(0)).signin(signinLogs, attackerIP, "0", at(10*time.Second)).
				signin(signinLogs, attackerIP, "50125", at(11*time.Second)).signin(signinLogs, attackerIP, "50140", at(12*time.Second)).
				sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{}},
		{"127.0.0.1 is excluded",
			newBatch().failures(signinLogs, "127.0.0.1", 6, at(0)).sshd(web, "sshd", accepted("alice", "127.0.0.1"), 4, at(time.Minute)),
			[]summary{}},
		{"::1 is excluded",
			newBatch().failures(signinLogs, "::1", 6, at(0)).sshd(web, "sshd", "Accepted password for alice from ::1 port 22 ssh2", 4, at(time.Minute)),
			[]summary{}},
		{"sudo is excluded",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sudo", accepted("alice", attackerIP), 10, at(time.Minute)),
			[]summary{}},
		{"a non-auth facility is excluded",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 3, at(time.Minute)),
			[]summary{}},
		{"authpriv counts",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sshd", accepted("alice", attackerIP), 10, at(time.Minute)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
		{"Windows LogonType 2 is excluded",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).securityEvent("dc01.contoso.com", attackerIP, 2, at(time.Minute)),
			[]summary{}},
		{"Windows LogonType 10 alerts",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).securityEvent("dc01.contoso.com", attackerIP, 10, at(time.Minute)),
			[]summary{{attackerIP, "dc01.contoso.com", signinLogs, "SecurityEvent"}}},
		{`IpAddress "-" is excluded`,
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).securityEvent("dc01.contoso.com", "-", 3, at(time.Minute)),
			[]summary{}},
		{"tables count separately: 4 + 4 does not alert",
			newBatch().failures(signinLogs, attackerIP, 4, at(0)).failures(nonInter, attackerIP, 4, at(0)).
				sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{}},
		{"a logon alerts for both tables",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).failures(nonInter, attackerIP, 6, at(0)).
				sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}, {attackerIP, web, nonInter, "Syslog"}}},
		{"failures more than a window before the logon do not alert",
			newBatch().failures(signinLogs, attackerIP, 6, at(-25*time.Hour)).sshd(web, "sshd", accepted("alice", attackerIP), 4, at(0)),
			[]summary{}},

		// Our improvements.
		{"IPv6 sshd logon",
			newBatch().failures(signinLogs, "2001:db8:aa::7", 6, at(0)).
				sshd(web, "sshd", "Accepted publickey for alice from 2001:db8:aa:0:0:0:0:7 port 52144 ssh2: ED25519 SHA256:abc", 4, at(time.Minute)),
			[]summary{{"2001:db8:aa::7", web, signinLogs, "Syslog"}}},
		{"::ffff: mapped Windows address",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).securityEvent("dc01.contoso.com", "::ffff:"+attackerIP, 3, at(time.Minute)),
			[]summary{{attackerIP, "dc01.contoso.com", signinLogs, "SecurityEvent"}}},
		{"a user name that is an IP address cannot redirect the source",
			newBatch().failures(signinLogs, "198.51.100.66", 6, at(0)).
				sshd(web, "sshd", accepted("198.51.100.66", attackerIP), 4, at(time.Minute)),
			[]summary{}},
		{"the real source is found behind a user name that is an IP address",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).
				sshd(web, "sshd", accepted("198.51.100.66", attackerIP), 4, at(time.Minute)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
		{"sshd-session is an ordinary logon source",
			newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd(web, "sshd-session", accepted("alice", attackerIP), 4, at(time.Minute)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
		{"failures arriving after the logon alert once the last one arrives",
			newBatch().sshd(web, "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).failures(signinLogs, attackerIP, 6, at(0)),
			[]summary{{attackerIP, web, signinLogs, "Syslog"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			assert.Equal(t, tc.want, summarize(h.consume(tc.batch)))
		})
	}
}

// TestLateFailuresAlertAsSoonAsTheLastArrives checks the arrival-order freedom across batches.
func TestLateFailuresAlertAsSoonAsTheLastArrives(t *testing.T) {
	h := newHarness(t, nil)
	assert.Empty(t, h.consume(newBatch().sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute))))
	assert.Empty(t, h.consume(newBatch().failures(signinLogs, attackerIP, 5, at(0))))
	got := h.consume(newBatch().failures(signinLogs, attackerIP, 1, at(30*time.Second)))
	assert.Equal(t, []summary{{attackerIP, "web01", signinLogs, "Syslog"}}, summarize(got))
	assert.Empty(t, h.consume(newBatch().failures(signinLogs, attackerIP, 3, at(40*time.Second))), "each (logon, table) alerts once")
}

func TestAlertRecordCarriesEveryAttribute(t *testing.T) {
	h := newHarness(t, nil)
	logonAt := at(time.Minute)
	alerts := h.consume(newBatch().failures(signinLogs, attackerIP, 7, at(0)).
		sshd("web01.contoso.com", "sshd", accepted("alice", attackerIP), 4, logonAt))
	require.Len(t, alerts, 1)
	a := alerts[0]
	assert.Equal(t, rules.AADThenHost.Reason, a.Body().Str())
	assert.Equal(t, plog.SeverityNumberWarn, a.SeverityNumber())
	assert.Equal(t, "Medium", a.SeverityText())
	assert.Equal(t, logonAt.UnixNano(), int64(a.Timestamp()))
	assert.NotZero(t, a.ObservedTimestamp())
	when := logonAt.UTC().Format(time.RFC3339Nano)
	want := map[string]any{
		"Reason": rules.AADThenHost.Reason, "TimeGenerated": when, "timestamp": when,
		"Computer": "web01.contoso.com", "IpAddress": attackerIP,
		"HostName": "web01", "DomainIndex": int64(5), "HostNameDomain": "contoso.com",
		"HostIP": "", "SyslogMessage": accepted("alice", attackerIP), "Facility": "auth", "ProcessName": "sshd",
		"SigninTable": signinLogs, "LogonSource": "Syslog", "FailedSignInCount": int64(7),
		"FirstFailedSignIn":  at(0).UTC().Format(time.RFC3339Nano),
		"LastFailedSignIn":   at(6 * time.Second).UTC().Format(time.RFC3339Nano),
		"security_rule.uuid": rules.AADThenHost.ID, "security_rule.name": rules.AADThenHost.Name,
		"security_rule.ruleset.name": "Microsoft Sentinel", "security_rule.version": rules.AADThenHost.Version,
		"source.address": attackerIP, "host.name": "web01.contoso.com", "user.name": "alice",
		"threat.tactic.name":  []any{"InitialAccess", "CredentialAccess"},
		"threat.technique.id": []any{"T1078", "T1110"},
	}
	assert.Equal(t, want, a.Attributes().AsRaw())

	// The alert's resource is the logon's.
	rl := h.sink.AllLogs()[0].ResourceLogs()
	last := rl.At(rl.Len() - 1)
	host, _ := last.Resource().Attributes().Get("host.name")
	assert.Equal(t, "web01.contoso.com", host.Str())
	assert.Equal(t, scopeName, last.ScopeLogs().At(0).Scope().Name())
}

func TestWindowsAlertAttributes(t *testing.T) {
	h := newHarness(t, nil)
	alerts := h.consume(newBatch().failures(nonInter, attackerIP, 6, at(0)).securityEvent("DC01", attackerIP, 10, at(time.Minute)))
	require.Len(t, alerts, 1)
	got := alerts[0].Attributes().AsRaw()
	for k, v := range map[string]any{
		"Account": `CONTOSO\alice`, "AccountType": "User", "Activity": "4624 - An account was successfully logged on.",
		"EventID": int64(4624), "LogonProcessName": "User32 ", "LogonTypeName": "10 - RemoteInteractive",
		"TargetUserSid": "S-1-5-21-1-2-3-1104", "TargetUserName": "alice", "TargetDomainName": "CONTOSO",
		"_ResourceId": "/subscriptions/0000/resourcegroups/rg/providers/microsoft.compute/virtualmachines/dc01",
		"HostName":    "DC01", "DomainIndex": int64(-1), "HostNameDomain": "DC01",
		"SigninTable": nonInter, "LogonSource": "SecurityEvent", "user.name": "alice",
	} {
		assert.Equal(t, v, got[k], k)
	}
	assert.NotContains(t, got, "SyslogMessage")
}

func TestPassThroughIsByteIdentical(t *testing.T) {
	h := newHarness(t, nil)
	b := newBatch().unrelated(3).failures(signinLogs, attackerIP, 6, at(0)).
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).securityEvent("dc01", "-", 3, at(0))
	var m plog.ProtoMarshaler
	want, err := m.MarshalLogs(b.ld)
	require.NoError(t, err)
	inputResources := b.ld.ResourceLogs().Len()

	require.NoError(t, h.proc.ConsumeLogs(context.Background(), b.ld))
	out := h.sink.AllLogs()[0]
	require.Equal(t, inputResources+1, out.ResourceLogs().Len(), "one alert appended")
	passed := plog.NewLogs()
	for i := 0; i < inputResources; i++ {
		out.ResourceLogs().At(i).CopyTo(passed.ResourceLogs().AppendEmpty())
	}
	got, err := m.MarshalLogs(passed)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestEmitAlertsDropsTheRest(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Emit = EmitAlerts })
	require.NoError(t, h.proc.ConsumeLogs(context.Background(), newBatch().unrelated(5).failures(signinLogs, attackerIP, 6, at(0)).ld))
	assert.Empty(t, h.sink.AllLogs(), "a batch without alerts sends nothing on")
	require.NoError(t, h.proc.ConsumeLogs(context.Background(),
		newBatch().unrelated(5).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).ld))
	require.Len(t, h.sink.AllLogs(), 1)
	out := h.sink.AllLogs()[0]
	assert.Equal(t, 1, out.LogRecordCount())
	assert.Len(t, alertsIn(out), 1)
}

func TestSuppress(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Suppress = time.Hour })
	b := newBatch().failures(signinLogs, attackerIP, 6, at(0))
	for i := 1; i <= 3; i++ {
		b.sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Duration(i)*time.Minute))
	}
	b.sshd("web02", "sshd", accepted("alice", attackerIP), 4, at(5*time.Minute))
	assert.Equal(t, []summary{{attackerIP, "web01", signinLogs, "Syslog"}, {attackerIP, "web02", signinLogs, "Syslog"}},
		summarize(h.consume(b)))
	metadatatest.AssertEqualProcessorAadhostlogincorrelationAlertsSuppressed(t, h.tel,
		[]metricdata.DataPoint[int64]{{Value: 2}}, metricdatatest.IgnoreTimestamp())
}

func TestWithoutSuppressEveryLogonAlerts(t *testing.T) {
	h := newHarness(t, nil)
	b := newBatch().failures(signinLogs, attackerIP, 6, at(0))
	for i := 1; i <= 3; i++ {
		b.sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Duration(i)*time.Minute))
	}
	assert.Len(t, h.consume(b), 3)
}

func TestCountTogether(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.CountTables = CountTogether })
	got := h.consume(newBatch().failures(signinLogs, attackerIP, 3, at(0)).failures(nonInter, attackerIP, 3, at(0)).
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)))
	assert.Equal(t, []summary{{attackerIP, "web01", signinLogs + "+" + nonInter, "Syslog"}}, summarize(got))
}

func TestExcludedPrefix(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.ExcludedIPs = []string{"203.0.113.0/24"} })
	got := h.consume(newBatch().failures(signinLogs, attackerIP, 6, at(0)).sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)))
	assert.Empty(t, got)
}

func TestTelemetryCounts(t *testing.T) {
	h := newHarness(t, nil)
	h.consume(newBatch().unrelated(4).failures(signinLogs, attackerIP, 6, at(0)).signin(signinLogs, attackerIP, "0", at(0)).
		signin(signinLogs, "not-an-ip", "50126", at(0)).
		failures(signinLogs, "198.51.100.1", 1, at(-30*time.Hour)).         // late: more than a window behind the clock
		failures(signinLogs, "198.51.100.2", 1, time.Now().Add(time.Hour)). // beyond max_clock_skew
		sshd("web01", "sshd", accepted("alice", attackerIP), 4, at(time.Minute)).
		sshd("web01", "sshd", accepted("bob", "198.51.100.3"), 4, at(time.Minute)))
	ignore := metricdatatest.IgnoreTimestamp()
	kind := func(k string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: n, Attributes: attribute.NewSet(attribute.String("kind", k))}
	}
	metadatatest.AssertEqualProcessorAadhostlogincorrelationRecords(t, h.tel, []metricdata.DataPoint[int64]{
		kind("unrelated", 4), kind("failed_signin", 8), kind("signin", 1), kind("linux_logon", 2), kind("rejected", 1),
	}, ignore)
	metadatatest.AssertEqualProcessorAadhostlogincorrelationFailedSignins(t, h.tel, []metricdata.DataPoint[int64]{{Value: 6}}, ignore)
	metadatatest.AssertEqualProcessorAadhostlogincorrelationLate(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, ignore)
	metadatatest.AssertEqualProcessorAadhostlogincorrelationAlerts(t, h.tel, []metricdata.DataPoint[int64]{
		{Value: 1, Attributes: attribute.NewSet(attribute.String("rule", "aad-then-host"))}}, ignore)
	reason := func(r string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: n, Attributes: attribute.NewSet(attribute.String("reason", r))}
	}
	metadatatest.AssertEqualProcessorAadhostlogincorrelationRejected(t, h.tel, []metricdata.DataPoint[int64]{
		reason("future_time", 1), reason("bad_address", 1),
	}, ignore)
	metadatatest.AssertEqualProcessorAadhostlogincorrelationTrackedIps(t, h.tel, []metricdata.DataPoint[int64]{{Value: 1}}, ignore)
	// Both logons wait: the attacker's has not alerted for the non-interactive table yet.
	metadatatest.AssertEqualProcessorAadhostlogincorrelationPendingLogons(t, h.tel, []metricdata.DataPoint[int64]{{Value: 2}}, ignore)
}

func TestEvictionsAreCounted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxTrackedIPs = 2; c.MaxPendingLogons = 1 })
	h.consume(newBatch().failures(signinLogs, "198.51.100.1", 1, at(0)).failures(signinLogs, "198.51.100.2", 1, at(time.Second)).
		failures(signinLogs, "198.51.100.3", 1, at(2*time.Second)).
		sshd("web01", "sshd", accepted("a", "198.51.100.4"), 4, at(3*time.Second)).
		sshd("web01", "sshd", accepted("b", "198.51.100.5"), 4, at(4*time.Second)))
	reason := func(r string, n int64) metricdata.DataPoint[int64] {
		return metricdata.DataPoint[int64]{Value: n, Attributes: attribute.NewSet(attribute.String("reason", r))}
	}
	metadatatest.AssertEqualProcessorAadhostlogincorrelationEvictions(t, h.tel, []metricdata.DataPoint[int64]{
		reason("max_tracked_ips", 1), reason("max_pending_logons", 1),
	}, metricdatatest.IgnoreTimestamp())
}
