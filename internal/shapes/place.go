package shapes

import (
	"encoding/json"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// The values a zero spec takes: one user, one attacker address, one moment.
const (
	// Addr is the source address of every shape unless a spec sets another.
	Addr = "203.0.113.7"
	// UserPrincipalName is the signing-in user.
	UserPrincipalName = "alice@contoso.com"
	// User is the account that logs on to a host.
	User = "alice"
	// Domain is the Windows domain of User.
	Domain = "CONTOSO"
	// LinuxHost is the Linux host's name (syslog hostname, journald _HOSTNAME).
	LinuxHost = "web01"
	// SentinelLinuxHost is its Computer in Sentinel's Syslog table, which holds the FQDN.
	SentinelLinuxHost = "web01.contoso.com"
	// WindowsComputer is the Windows host.
	WindowsComputer = "WS01.contoso.com"
	// TenantID is the Entra ID tenant.
	TenantID = "7c759f10-811c-4db8-ad6d-f07d8ae3f8ea"
)

// The moments a zero spec is stamped with, one per family, as the fixtures of the classifier's tests
// have always carried them.
var (
	// SignInTime is when a zero SignIn happened.
	SignInTime = time.Date(2024, time.November, 27, 2, 34, 56, 789_000_000, time.UTC)
	// SyslogTime is when a zero Syslog line was written (whole seconds: RFC 3164 has no fraction).
	SyslogTime = time.Date(2024, time.November, 27, 2, 34, 56, 0, time.UTC)
	// JournaldTime is when a zero journald entry was written (journald keeps microseconds).
	JournaldTime = time.Date(2024, time.November, 27, 2, 34, 56, 123_456_000, time.UTC)
	// WindowsTime is when a zero Windows event happened.
	WindowsTime = time.Date(2024, time.November, 27, 2, 34, 56, 500_000_000, time.UTC)
)

// Place says where Fill writes a structured shape's fields.
type Place uint8

const (
	// ShapePlace is where the shape's own receiver or export puts them (the zero value).
	ShapePlace Place = iota
	// InAttributes writes them as the record's attributes.
	InAttributes
	// InMapBody writes them as a map body (a JSON parse upstream, or a receiver that keeps the body).
	InMapBody
	// InJSONBody writes them as one JSON text in a string body (a raw file line, a Kafka text message).
	InJSONBody
)

// fill writes m to lr at place, where ShapePlace means natural.
func fill(lr plog.LogRecord, m map[string]any, place, natural Place) {
	if place == ShapePlace {
		place = natural
	}
	switch place {
	case InAttributes:
		mustFromRaw(lr.Attributes().FromRaw(m))
	case InMapBody:
		mustFromRaw(lr.Body().SetEmptyMap().FromRaw(m))
	default:
		lr.Body().SetStr(jsonText(m))
	}
}

// jsonText is m as JSON, keys sorted, without HTML escaping.
func jsonText(m map[string]any) string { return jsonValue(m) }

// jsonValue is v as JSON, without HTML escaping.
func jsonValue(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("shapes: a builder made a map JSON cannot hold: " + err.Error())
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// decodeJSON parses a JSON object as a JSON parser upstream would hand it on: whole numbers as
// int64, others as float64.
func decodeJSON(text string) map[string]any {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		panic("shapes: " + err.Error())
	}
	return numbers(m).(map[string]any)
}

// numbers replaces json.Number values in v with int64 or float64.
func numbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	}
	return v
}

// mustFromRaw panics on an error of FromRaw: the builders only make values FromRaw takes, so an
// error is a bug in this package.
func mustFromRaw(err error) {
	if err != nil {
		panic("shapes: " + err.Error())
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}
