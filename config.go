package aadhostlogincorrelation

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/config/configtls"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/rules"
)

// Values of Config.CountTables.
const (
	CountSeparately = "separately"
	CountTogether   = "together"
)

// Values of Config.Emit.
const (
	EmitAll    = "all"
	EmitAlerts = "alerts"
)

// Values of Config.State.
const (
	StateMemory = "memory"
	StateRedis  = "redis"
)

// Config is the processor's configuration; README.md's Configuration section describes each key.
type Config struct {
	// SigninThreshold: an IP is suspicious when its failed sign-ins exceed this (count > threshold).
	SigninThreshold int `mapstructure:"signin_threshold"`
	// Window is the correlation window: the failures and the logon must fit inside one interval this long.
	Window time.Duration `mapstructure:"window"`
	// ExcludedResultTypes are sign-in ResultTypes that are not failures.
	ExcludedResultTypes []string `mapstructure:"excluded_result_types"`
	// ExcludedIPs are addresses or CIDR prefixes whose sign-ins and logons never count.
	ExcludedIPs []string `mapstructure:"excluded_ips"`
	// LogonTypes are the Windows logon types that count.
	LogonTypes []int `mapstructure:"logon_types"`
	// CountTables is "separately" (one count per sign-in table, as the rule) or "together".
	CountTables string `mapstructure:"count_tables"`
	// Emit is "all" (records pass and alerts are added) or "alerts" (only alerts leave).
	Emit string `mapstructure:"emit"`
	// Suppress: at most one alert per (IpAddress, Computer, SigninTable) per this long; 0 disables.
	Suppress time.Duration `mapstructure:"suppress"`
	// MaxTrackedIPs bounds the IPs whose failed sign-ins are kept.
	MaxTrackedIPs int `mapstructure:"max_tracked_ips"`
	// MaxPendingLogons bounds the logons kept waiting for failures that may arrive late.
	MaxPendingLogons int `mapstructure:"max_pending_logons"`
	// MaxClockSkew is how far ahead of the wall clock an event time is believed.
	MaxClockSkew time.Duration `mapstructure:"max_clock_skew"`
	// Storage is the id of a storage extension in which state is checkpointed; none keeps it in memory only.
	Storage *component.ID `mapstructure:"storage"`
	// CheckpointInterval is how often state is saved to Storage (also saved at shutdown).
	CheckpointInterval time.Duration `mapstructure:"checkpoint_interval"`
	// State is "memory" (this collector's own) or "redis" (shared by a fleet of collectors).
	State string `mapstructure:"state"`
	// Redis is where the shared state lives when State is "redis".
	Redis RedisConfig `mapstructure:"redis"`
	// Rules are the rules that run, by Sentinel id or short name, each with optional settings of its
	// own; none runs the seed alone ("Failed AzureAD logons but success logon to host").
	Rules []RuleConfig `mapstructure:"rules"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// RuleConfig selects one rule and, optionally, its own threshold, window and suppress; unset ones
// take the shared signin_threshold, window and suppress.
type RuleConfig struct {
	// ID is the rule's Sentinel id or its short name.
	ID        string         `mapstructure:"id"`
	Threshold *int           `mapstructure:"threshold"`
	Window    *time.Duration `mapstructure:"window"`
	Suppress  *time.Duration `mapstructure:"suppress"`

	// prevent unkeyed literal initialization
	_ struct{}
}

var _ component.Config = (*Config)(nil)

// RedisConfig is the Redis server a fleet of collectors shares its state in.
type RedisConfig struct {
	// Endpoint is the server's host:port.
	Endpoint string `mapstructure:"endpoint"`
	// Username and Password authenticate (Redis ACL, or requirepass with no username); pass the
	// password from the environment: ${env:REDIS_PASSWORD}.
	Username string              `mapstructure:"username"`
	Password configopaque.String `mapstructure:"password"`
	// DB is the database number.
	DB int `mapstructure:"db"`
	// TLS is the client TLS configuration; the default (insecure) is plain TCP.
	TLS configtls.ClientConfig `mapstructure:"tls"`
	// KeyPrefix starts every key; collectors that share state use the same prefix and settings.
	KeyPrefix string `mapstructure:"key_prefix"`
	// Timeout is the longest a batch waits for Redis; past it the batch passes uncorrelated.
	Timeout time.Duration `mapstructure:"timeout"`

	// prevent unkeyed literal initialization
	_ struct{}
}

// maxRedisDuration bounds window, suppress and max_clock_skew with state redis: the script keeps
// times as microseconds in Lua doubles, exact below 2^53.
const maxRedisDuration = 100 * 365 * 24 * time.Hour

func createDefaultConfig() component.Config {
	def := classify.DefaultRules() // what the rules count by default is the classifier's to say
	excluded := make([]string, 0, len(def.ExcludedIPs))
	for _, p := range def.ExcludedIPs {
		if p.IsSingleIP() {
			excluded = append(excluded, p.Addr().String())
		} else {
			excluded = append(excluded, p.String())
		}
	}
	return &Config{
		SigninThreshold:     5,
		Window:              24 * time.Hour,
		ExcludedResultTypes: def.ExcludedResultTypes,
		ExcludedIPs:         excluded,
		LogonTypes:          def.LogonTypes,
		CountTables:         CountSeparately,
		Emit:                EmitAll,
		MaxTrackedIPs:       4_000_000,
		MaxPendingLogons:    1_000_000,
		MaxClockSkew:        5 * time.Minute,
		CheckpointInterval:  30 * time.Second,
		State:               StateMemory,
		Redis: RedisConfig{
			TLS:       configtls.ClientConfig{Insecure: true},
			KeyPrefix: "aadhostlogin:",
			Timeout:   500 * time.Millisecond,
		},
	}
}

// Validate checks every key and names the key and the value that is wrong.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key string, value any, why string) {
		errs = append(errs, fmt.Errorf("%s: invalid value %v: %s", key, value, why))
	}
	if c.SigninThreshold < 0 {
		bad("signin_threshold", c.SigninThreshold, "must be 0 or more")
	}
	if c.SigninThreshold > 10_000 {
		bad("signin_threshold", c.SigninThreshold, "must be at most 10000")
	}
	if c.Window <= 0 {
		bad("window", c.Window, "must be a positive duration")
	}
	for _, rt := range c.ExcludedResultTypes {
		if strings.TrimSpace(rt) == "" {
			bad("excluded_result_types", fmt.Sprintf("%q", rt), "must not be empty")
		}
	}
	if _, err := parsePrefixes(c.ExcludedIPs); err != nil {
		errs = append(errs, err)
	}
	for _, lt := range c.LogonTypes {
		if lt < 0 || lt > 15 {
			bad("logon_types", lt, "Windows logon types are 0 to 15")
		}
	}
	if c.CountTables != CountSeparately && c.CountTables != CountTogether {
		bad("count_tables", fmt.Sprintf("%q", c.CountTables), `must be "separately" or "together"`)
	}
	if c.Emit != EmitAll && c.Emit != EmitAlerts {
		bad("emit", fmt.Sprintf("%q", c.Emit), `must be "all" or "alerts"`)
	}
	if c.Suppress < 0 {
		bad("suppress", c.Suppress, "must be 0 or a positive duration")
	}
	if c.MaxTrackedIPs <= 0 {
		bad("max_tracked_ips", c.MaxTrackedIPs, "must be positive")
	}
	if c.MaxPendingLogons <= 0 {
		bad("max_pending_logons", c.MaxPendingLogons, "must be positive")
	}
	if c.MaxClockSkew < 0 {
		bad("max_clock_skew", c.MaxClockSkew, "must be 0 or a positive duration")
	}
	if c.Storage != nil && c.CheckpointInterval <= 0 {
		bad("checkpoint_interval", c.CheckpointInterval, "must be a positive duration")
	}
	errs = append(errs, c.validateRules()...)
	switch c.State {
	case StateMemory:
	case StateRedis:
		errs = append(errs, c.validateRedis()...)
	default:
		bad("state", fmt.Sprintf("%q", c.State), `must be "memory" or "redis"`)
	}
	return errors.Join(errs...)
}

// validateRules checks the rules block.
func (c *Config) validateRules() []error {
	var errs []error
	seen := map[*rules.Rule]bool{}
	for i, rc := range c.Rules {
		bad := func(key string, value any, why string) {
			errs = append(errs, fmt.Errorf("rules[%d].%s: invalid value %v: %s", i, key, value, why))
		}
		r, ok := rules.Find(strings.TrimSpace(rc.ID))
		switch {
		case !ok:
			bad("id", fmt.Sprintf("%q", rc.ID), "no such rule; known rules: "+rules.Names())
		case seen[r]:
			bad("id", fmt.Sprintf("%q", rc.ID), "the rule is named twice")
		}
		seen[r] = true
		if t := rc.Threshold; t != nil && (*t < 0 || *t > 10_000) {
			bad("threshold", *t, "must be 0 to 10000")
		}
		if w := rc.Window; w != nil && *w <= 0 {
			bad("window", *w, "must be a positive duration")
		}
		if d := rc.Suppress; d != nil && *d < 0 {
			bad("suppress", *d, "must be 0 or a positive duration")
		}
		if c.State == StateRedis {
			for _, d := range []struct {
				key   string
				value *time.Duration
			}{{"window", rc.Window}, {"suppress", rc.Suppress}} {
				if d.value != nil && *d.value > maxRedisDuration {
					bad(d.key, *d.value, "with state redis it must be at most 100 years")
				}
			}
		}
	}
	return errs
}

// running returns the rules that run, with their settings.
func (c *Config) running() []rules.Running {
	base := func(r *rules.Rule) rules.Running {
		return rules.Running{Rule: r, Threshold: c.SigninThreshold, Window: c.Window, Suppress: c.Suppress,
			Together: c.CountTables == CountTogether}
	}
	if len(c.Rules) == 0 {
		var out []rules.Running
		for _, r := range rules.Default {
			out = append(out, base(r))
		}
		return out
	}
	out := make([]rules.Running, 0, len(c.Rules))
	for _, rc := range c.Rules {
		r, ok := rules.Find(strings.TrimSpace(rc.ID))
		if !ok {
			continue // Validate refuses it
		}
		run := base(r)
		if rc.Threshold != nil {
			run.Threshold = *rc.Threshold
		}
		if rc.Window != nil {
			run.Window = *rc.Window
		}
		if rc.Suppress != nil {
			run.Suppress = *rc.Suppress
		}
		out = append(out, run)
	}
	return out
}

// validateRedis checks the redis block, which state "redis" requires.
func (c *Config) validateRedis() []error {
	var errs []error
	bad := func(key string, value any, why string) {
		errs = append(errs, fmt.Errorf("redis.%s: invalid value %v: %s", key, value, why))
	}
	r := &c.Redis
	if r.Endpoint == "" {
		bad("endpoint", `""`, `required when state is "redis" (host:port of the Redis server)`)
	} else if host, port, err := net.SplitHostPort(r.Endpoint); err != nil {
		bad("endpoint", fmt.Sprintf("%q", r.Endpoint), "not host:port: "+strings.TrimPrefix(err.Error(), "address "+r.Endpoint+": "))
	} else if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
		bad("endpoint", fmt.Sprintf("%q", r.Endpoint), "want host:port with a host and a port from 1 to 65535")
	}
	if r.DB < 0 {
		bad("db", r.DB, "must be 0 or more")
	}
	if r.KeyPrefix == "" {
		bad("key_prefix", `""`, "must not be empty: the keys would mix with other data in the database")
	}
	if r.Timeout <= 0 {
		bad("timeout", r.Timeout, "must be a positive duration")
	}
	for _, d := range []struct {
		key   string
		value time.Duration
	}{{"window", c.Window}, {"suppress", c.Suppress}, {"max_clock_skew", c.MaxClockSkew}} {
		if d.value > maxRedisDuration {
			errs = append(errs, fmt.Errorf("%s: invalid value %v: with state redis it must be at most 100 years", d.key, d.value))
		}
	}
	if c.Storage != nil {
		errs = append(errs, fmt.Errorf("storage: invalid value %q: state redis keeps the state in Redis; storage checkpoints state memory only", c.Storage.String()))
	}
	return errs
}

// parsePrefixes turns excluded_ips entries (addresses or CIDR prefixes) into prefixes.
func parsePrefixes(entries []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(entries))
	for _, s := range entries {
		s = strings.TrimSpace(s)
		if strings.Contains(s, "/") {
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return nil, fmt.Errorf("excluded_ips: invalid value %q: not an address or CIDR prefix", s)
			}
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("excluded_ips: invalid value %q: not an address or CIDR prefix", s)
		}
		a = a.Unmap().WithZone("")
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
