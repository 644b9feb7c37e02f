//go:build e2e

package e2e_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Every shipped configuration is accepted by the binary's own validate command.
func TestExampleConfigsValidate(t *testing.T) {
	root := repoRoot(t)
	configs, err := filepath.Glob(filepath.Join(root, "examples", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	configs = append(configs, filepath.Join(root, "examples", "demo", "config.yaml"))
	if len(configs) < 5 {
		t.Fatalf("found only %d example configs: %v", len(configs), configs)
	}
	// The examples of the rules block, Event Hubs and the four rules must be among them.
	for _, name := range []string{"both-rules.yaml", "eventhubs.yaml", "cloud-rules.yaml"} {
		if !slices.Contains(configs, filepath.Join(root, "examples", name)) {
			t.Fatalf("examples/%s is missing from %v", name, configs)
		}
	}
	for _, config := range configs {
		rel, _ := filepath.Rel(root, config)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			if out, err := runCollectorEnv(t, time.Minute, exampleSecrets, "validate", "--config", config); err != nil {
				t.Fatalf("validate --config %s: %v\n%s", rel, err, out)
			}
		})
	}
}

// exampleSecrets are the variables an example needs and has no default for: the Event Hubs
// namespace and its connection string (a made-up one: validate connects to nothing).
var exampleSecrets = []string{
	"EVENTHUBS_NAMESPACE=contoso-signins",
	eventHubsSecretEnv + "=Endpoint=sb://contoso-signins.servicebus.windows.net/;SharedAccessKeyName=otelcol-listen;SharedAccessKey=bm90LWEtcmVhbC1rZXk=",
}

// The Event Hubs example takes its connection string from the environment and has no default: without
// it the collector refuses to start and says what is missing.
func TestEventHubsExampleNeedsItsConnectionString(t *testing.T) {
	config := filepath.Join(repoRoot(t), "examples", "eventhubs.yaml")
	out, err := runCollectorEnv(t, time.Minute, []string{"EVENTHUBS_NAMESPACE=contoso-signins", eventHubsSecretEnv + "="},
		"validate", "--config", config)
	if err == nil {
		t.Fatalf("validate of examples/eventhubs.yaml without %s succeeded:\n%s", eventHubsSecretEnv, out)
	}
	if !strings.Contains(out, "kafka/eventhubs") || !strings.Contains(out, "password is required") {
		t.Errorf("validate without %s does not say the kafka/eventhubs receiver's password is missing:\n%s", eventHubsSecretEnv, out)
	}
}

// badValueConfig is a minimal pipeline whose processor settings come from the test case. The otlp
// receiver asks for port 0: the collector must fail before it binds anything.
const badValueConfig = `
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:0
processors:
  aadhostlogincorrelation:
{{ .Settings }}
exporters:
  debug:
service:
  telemetry:
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      processors: [aadhostlogincorrelation]
      exporters: [debug]
`

// A configuration with a bad value fails at start, and the message names the key and the value.
func TestBadValueFailsAtStart(t *testing.T) {
	cases := []struct {
		name     string
		settings string
		want     []string // substrings of the collector's output
	}{
		{"negative threshold", "    signin_threshold: -1", []string{"signin_threshold", "-1"}},
		{"unknown count_tables", "    count_tables: sometimes", []string{"count_tables", "sometimes"}},
		{"unknown emit", "    emit: everything", []string{"emit", "everything"}},
		{"zero window", "    window: 0s", []string{"window", "0s"}},
		{"bad CIDR", "    excluded_ips: [\"10.0.0.0/33\"]", []string{"excluded_ips", "10.0.0.0/33"}},
		{"negative suppress", "    suppress: -1m", []string{"suppress", "-1m"}},
		{"unknown rule", "    rules:\n      - id: aad-then-host\n      - id: host-then-cloud",
			[]string{`rules[1].id: invalid value "host-then-cloud": no such rule`}},
		{"unknown rule first", "    rules:\n      - id: no-such-rule",
			[]string{`rules[0].id: invalid value "no-such-rule": no such rule`}},
		{"rule named twice", "    rules:\n      - id: host-then-aad\n      - id: 1ce5e766-26ab-4616-b7c8-3b33ae321e80",
			[]string{`rules[1].id: invalid value "1ce5e766-26ab-4616-b7c8-3b33ae321e80": the rule is named twice`}},
		{"rule threshold", "    rules:\n      - id: host-then-aad\n        threshold: -3",
			[]string{"rules[0].threshold: invalid value -3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			config := writeConfig(t, badValueConfig, map[string]string{"Settings": tc.settings})
			for _, args := range [][]string{{"--config", config}, {"validate", "--config", config}} {
				out, err := runCollector(t, time.Minute, args...)
				if err == nil {
					t.Fatalf("collector %v with %q succeeded; want a failure naming %q\n%s", args[0], tc.settings, tc.want, out)
				}
				for _, want := range tc.want {
					if !strings.Contains(out, want) {
						t.Errorf("collector %v with %q: output does not name %q:\n%s", args[0], tc.settings, want, out)
					}
				}
			}
		})
	}
}
