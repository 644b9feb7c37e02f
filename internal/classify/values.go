package classify

import (
	"math"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// field is one value found during a single pass over a record's maps. The first value found wins,
// so attributes (walked first) take precedence over the body map. The zero field is "not found".
type field struct {
	v pcommon.Value
}

// ok reports whether the field was found.
func (f field) ok() bool { return f.v != pcommon.Value{} }

func (f *field) set(v pcommon.Value) {
	if !f.ok() {
		f.v = v
	}
}

// str returns the field's value when it is a string.
func (f field) str() (string, bool) {
	if !f.ok() || f.v.Type() != pcommon.ValueTypeStr {
		return "", false
	}
	return f.v.Str(), true
}

// text returns the field's value when it is a string, else "" (for projected columns).
func (f field) text() string {
	s, _ := f.str()
	return s
}

// asMap returns the field's value when it is a map. Value.Map panics on other types, so never call it
// without this check.
func (f field) asMap() (pcommon.Map, bool) {
	if !f.ok() || f.v.Type() != pcommon.ValueTypeMap {
		return pcommon.Map{}, false
	}
	return f.v.Map(), true
}

// integer reads a whole number given as a string ("4624", " 4624 ", "4624.0"), an int, or an integral
// double.
func integer(v pcommon.Value) (int64, bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return parseInteger(strings.TrimSpace(v.Str()))
	case pcommon.ValueTypeInt:
		return v.Int(), true
	case pcommon.ValueTypeDouble:
		return integralDouble(v.Double())
	}
	return 0, false
}

func (f field) integer() (int64, bool) {
	if !f.ok() {
		return 0, false
	}
	return integer(f.v)
}

func integralDouble(d float64) (int64, bool) {
	if math.IsNaN(d) || d != math.Trunc(d) || d < -9e18 || d > 9e18 {
		return 0, false
	}
	return int64(d), true
}

// parseInteger parses an optionally signed decimal with an optional all-zero fraction ("50126.0").
// Unlike strconv.ParseInt it never allocates, not even on failure.
func parseInteger(s string) (int64, bool) {
	s = trimZeroFraction(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// trimZeroFraction turns "50126.0" or "50126.000" into "50126"; anything else is returned as is.
func trimZeroFraction(s string) string {
	i := strings.IndexByte(s, '.')
	if i <= 0 {
		return s
	}
	for j := i + 1; j < len(s); j++ {
		if s[j] != '0' {
			return s
		}
	}
	return s[:i]
}

// canonicalCode renders a ResultType the way the KQL compares it: "50126" for "50126", 50126 and
// 50126.0. known holds canonical strings to reuse so that common codes cost no allocation.
func canonicalCode(v pcommon.Value, known []string) (code string, ok bool) {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return canonicalCodeString(v.Str()), true
	case pcommon.ValueTypeInt:
		return formatCode(v.Int(), known), true
	case pcommon.ValueTypeDouble:
		d := v.Double()
		if n, isInt := integralDouble(d); isInt {
			return formatCode(n, known), true
		}
		return strconv.FormatFloat(d, 'g', -1, 64), true
	}
	return "", false
}

// canonicalCodeString trims a textual code and drops an all-zero fraction of a number.
func canonicalCodeString(s string) string {
	s = strings.TrimSpace(s)
	if t := trimZeroFraction(s); t != s {
		if _, ok := parseInteger(t); ok {
			return t
		}
	}
	return s
}

func formatCode(n int64, known []string) string {
	for _, k := range known {
		if m, ok := parseInteger(k); ok && m == n {
			return k
		}
	}
	return strconv.FormatInt(n, 10)
}

// containsFold reports whether s contains the lower-case ASCII word sub, ignoring ASCII case: KQL's
// `contains`.
func containsFold(s, sub string) bool {
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if equalFoldASCII(s[i:i+n], sub) {
			return true
		}
	}
	return false
}
