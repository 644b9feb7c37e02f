package aadhostlogincorrelation

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configtls"
	"go.opentelemetry.io/collector/confmap"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/metadata"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

func TestLoadConfig(t *testing.T) {
	cm, err := confmaptest.LoadConf(filepath.Join("testdata", "config.yaml"))
	require.NoError(t, err)
	storage := component.MustNewIDWithName("file_storage", "state")
	full := &Config{
		SigninThreshold:     10,
		Window:              12 * time.Hour,
		ExcludedResultTypes: []string{"0", "50125", "50140", "50074"},
		ExcludedIPs:         []string{"127.0.0.1", "::1", "10.0.0.0/8", "2001:db8:feed::/48"},
		LogonTypes:          []int{10, 3},
		CountTables:         CountTogether,
		Emit:                EmitAlerts,
		Suppress:            time.Hour,
		MaxTrackedIPs:       100000,
		MaxPendingLogons:    5000,
		MaxClockSkew:        time.Minute,
		Storage:             &storage,
		CheckpointInterval:  10 * time.Second,
		State:               StateMemory,
		Redis:               createDefaultConfig().(*Config).Redis,
	}
	shared := createDefaultConfig().(*Config)
	shared.State = StateRedis
	shared.Redis = RedisConfig{
		Endpoint: "redis.example.internal:6380",
		Username: "collector",
		Password: "not-a-real-secret",
		DB:       2,
		TLS: configtls.ClientConfig{
			Insecure:   false,
			ServerName: "redis.example.internal",
		},
		KeyPrefix: "fleet-a:",
		Timeout:   250 * time.Millisecond,
	}
	three, twoHours, tenMinutes := 3, 2*time.Hour, 10*time.Minute
	withRules := createDefaultConfig().(*Config)
	withRules.SigninThreshold = 8
	withRules.Rules = []RuleConfig{
		{ID: "8ee967a2-a645-4832-85f4-72b635bcb3a6"},
		{ID: "host-then-aad", Threshold: &three, Window: &twoHours, Suppress: &tenMinutes},
	}
	sharedDefaults := createDefaultConfig().(*Config)
	sharedDefaults.State = StateRedis
	sharedDefaults.Redis.Endpoint = "127.0.0.1:6379"
	for _, tc := range []struct {
		id   component.ID
		want component.Config
	}{
		{component.NewID(metadata.Type), createDefaultConfig()},
		{component.NewIDWithName(metadata.Type, "full"), full},
		{component.NewIDWithName(metadata.Type, "redis"), shared},
		{component.NewIDWithName(metadata.Type, "redis_defaults"), sharedDefaults},
		{component.NewIDWithName(metadata.Type, "rules"), withRules},
	} {
		t.Run(tc.id.String(), func(t *testing.T) {
			cfg := NewFactory().CreateDefaultConfig()
			sub, err := cm.Sub(tc.id.String())
			require.NoError(t, err)
			require.NoError(t, sub.Unmarshal(cfg))
			require.NoError(t, confmap.Validate(cfg))
			assert.Equal(t, tc.want, cfg)
		})
	}
}

func TestDefaultsAreTheRule(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	assert.Equal(t, 5, cfg.SigninThreshold)
	assert.Equal(t, 24*time.Hour, cfg.Window)
	assert.Equal(t, []string{"0", "50125", "50140"}, cfg.ExcludedResultTypes)
	assert.Equal(t, []string{"127.0.0.1", "::1"}, cfg.ExcludedIPs)
	assert.Equal(t, []int{10, 7, 3}, cfg.LogonTypes)
	assert.Equal(t, CountSeparately, cfg.CountTables)
	assert.Equal(t, EmitAll, cfg.Emit)
	assert.Equal(t, 5*time.Minute, cfg.MaxClockSkew)
	assert.NoError(t, cfg.Validate())
}

func TestValidateNamesKeyAndValue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"negative threshold", func(c *Config) { c.SigninThreshold = -1 }, "signin_threshold: invalid value -1"},
		{"zero window", func(c *Config) { c.Window = 0 }, "window: invalid value 0s"},
		{"negative window", func(c *Config) { c.Window = -time.Hour }, "window: invalid value -1h0m0s"},
		{"malformed ip", func(c *Config) { c.ExcludedIPs = []string{"10.0.0.300"} }, `excluded_ips: invalid value "10.0.0.300"`},
		{"malformed cidr", func(c *Config) { c.ExcludedIPs = []string{"10.0.0.0/33"} }, `excluded_ips: invalid value "10.0.0.0/33"`},
		{"unknown count_tables", func(c *Config) { c.CountTables = "sometimes" }, `count_tables: invalid value "sometimes"`},
		{"unknown emit", func(c *Config) { c.Emit = "some" }, `emit: invalid value "some"`},
		{"zero max_tracked_ips", func(c *Config) { c.MaxTrackedIPs = 0 }, "max_tracked_ips: invalid value 0"},
		{"negative max_pending_logons", func(c *Config) { c.MaxPendingLogons = -5 }, "max_pending_logons: invalid value -5"},
		{"negative suppress", func(c *Config) { c.Suppress = -time.Second }, "suppress: invalid value -1s"},
		{"negative skew", func(c *Config) { c.MaxClockSkew = -time.Second }, "max_clock_skew: invalid value -1s"},
		{"logon type out of range", func(c *Config) { c.LogonTypes = []int{99} }, "logon_types: invalid value 99"},
		{"empty result type", func(c *Config) { c.ExcludedResultTypes = []string{""} }, `excluded_result_types: invalid value ""`},
		{"unknown state", func(c *Config) { c.State = "etcd" }, `state: invalid value "etcd"`},
		{"redis without endpoint", func(c *Config) { c.State = StateRedis }, `redis.endpoint: invalid value "": required when state is "redis"`},
		{"redis endpoint without port", func(c *Config) { c.State, c.Redis.Endpoint = StateRedis, "redis.internal" }, `redis.endpoint: invalid value "redis.internal": not host:port: missing port in address`},
		{"redis endpoint without host", func(c *Config) { c.State, c.Redis.Endpoint = StateRedis, ":6379" }, `redis.endpoint: invalid value ":6379"`},
		{"redis endpoint port out of range", func(c *Config) { c.State, c.Redis.Endpoint = StateRedis, "10.0.0.5:70000" }, `redis.endpoint: invalid value "10.0.0.5:70000"`},
		{"redis zero timeout", func(c *Config) { c.State, c.Redis.Endpoint, c.Redis.Timeout = StateRedis, "10.0.0.5:6379", 0 }, "redis.timeout: invalid value 0s: must be a positive duration"},
		{"redis negative db", func(c *Config) { c.State, c.Redis.Endpoint, c.Redis.DB = StateRedis, "10.0.0.5:6379", -1 }, "redis.db: invalid value -1"},
		{"redis empty key prefix", func(c *Config) { c.State, c.Redis.Endpoint, c.Redis.KeyPrefix = StateRedis, "10.0.0.5:6379", "" }, `redis.key_prefix: invalid value ""`},
		{"redis with storage", func(c *Config) {
			id := component.MustNewID("file_storage")
			c.State, c.Redis.Endpoint, c.Storage = StateRedis, "10.0.0.5:6379", &id
		}, `storage: invalid value "file_storage": state redis keeps the state in Redis`},
		{"unknown rule", func(c *Config) { c.Rules = []RuleConfig{{ID: "brute-force-everything"}} },
			`rules[0].id: invalid value "brute-force-everything": no such rule; known rules: aad-then-host (8ee967a2-a645-4832-85f4-72b635bcb3a6), `},
		{"rule named twice", func(c *Config) {
			c.Rules = []RuleConfig{{ID: "aad-then-host"}, {ID: "8EE967A2-A645-4832-85F4-72B635BCB3A6"}}
		},
			`rules[1].id: invalid value "8EE967A2-A645-4832-85F4-72B635BCB3A6": the rule is named twice`},
		{"rule threshold", func(c *Config) { n := -2; c.Rules = []RuleConfig{{ID: "host-then-aad", Threshold: &n}} },
			"rules[0].threshold: invalid value -2"},
		{"rule window", func(c *Config) { var w time.Duration; c.Rules = []RuleConfig{{ID: "host-then-aad", Window: &w}} },
			"rules[0].window: invalid value 0s"},
		{"rule suppress", func(c *Config) { d := -time.Minute; c.Rules = []RuleConfig{{ID: "host-then-aad", Suppress: &d}} },
			"rules[0].suppress: invalid value -1m0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := createDefaultConfig().(*Config)
			tc.mutate(cfg)
			err := cfg.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestExcludedIPPrefixes(t *testing.T) {
	got, err := parsePrefixes([]string{"127.0.0.1", "::1", "10.1.2.3/8", "::ffff:192.0.2.0/120", " 2001:db8::/32 "})
	require.NoError(t, err)
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	assert.Equal(t, []string{"127.0.0.1/32", "::1/128", "10.0.0.0/8", "192.0.2.0/24", "2001:db8::/32"}, s)
}

// TestRedisPasswordIsRedacted: the password never appears when the configuration is printed or
// marshalled (the collector's own config dumps).
func TestRedisPasswordIsRedacted(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	cfg.Redis.Password = "hunter2"
	conf := confmap.New()
	require.NoError(t, conf.Marshal(cfg))
	assert.NotContains(t, fmt.Sprint(conf.ToStringMap()), "hunter2")
	assert.NotContains(t, fmt.Sprintf("%v %+v", cfg.Redis.Password, cfg.Redis), "hunter2")
}

// TestRunningRules: the shared keys are every rule's defaults, and a rule's own keys override them.
func TestRunningRules(t *testing.T) {
	cfg := createDefaultConfig().(*Config)
	run := cfg.running()
	require.Len(t, run, 1)
	assert.Equal(t, &rules.AADThenHost, run[0].Rule, "the seed runs alone by default")
	assert.Equal(t, 5, run[0].Threshold)

	cfg.SigninThreshold, cfg.Window, cfg.CountTables = 7, time.Hour, CountTogether
	two := 2
	cfg.Rules = []RuleConfig{{ID: "host-then-aad", Threshold: &two}, {ID: "aad-then-host"}}
	run = cfg.running()
	require.Len(t, run, 2)
	assert.Equal(t, rules.Running{Rule: &rules.HostThenAAD, Threshold: 2, Window: time.Hour, Together: true}, run[0])
	assert.Equal(t, rules.Running{Rule: &rules.AADThenHost, Threshold: 7, Window: time.Hour, Together: true}, run[1])
}
