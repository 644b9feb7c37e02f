package classify

import (
	"math"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// Event times are parsed by hand because time.Parse allocates a *time.Location for every numeric
// offset other than the local one, and this runs once per sign-in and logon.

// A stated time that Unix nanoseconds in an int64 cannot hold (before 1677-09-21 or after 2262-04-11)
// is not dropped, which would make the record count as processed now (0 means "no time"). It is
// saturated instead:
//   - timeAfterRange, the largest int64, lies beyond any clock skew, so the record is rejected as
//     being from the future, as a time in 2200 is;
//   - timeBeforeRange, the smallest int64, lies more than a window behind any clock, so the record is
//     judged late (passed through and counted as late), as a time of last year is.
const (
	timeAfterRange  int64 = math.MaxInt64
	timeBeforeRange int64 = math.MinInt64
)

// eventTime reads a schema time field in Unix nanoseconds: RFC 3339 text (Sentinel TimeGenerated,
// Azure time), the Log Analytics export style "4/28/2021, 2:08:45.221 PM" (UTC), or a number of
// seconds, milliseconds, microseconds or nanoseconds since the epoch. 0 when it is none of these.
// A time int64 nanoseconds cannot hold is saturated (see timeAfterRange and timeBeforeRange).
func eventTime(v pcommon.Value) int64 {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return parseTime(v.Str())
	case pcommon.ValueTypeInt:
		return epochIntNanos(v.Int())
	case pcommon.ValueTypeDouble:
		return epochNanos(v.Double())
	}
	return 0
}

func (f field) time() int64 {
	if !f.ok() {
		return 0
	}
	return eventTime(f.v)
}

// parseTime parses the textual forms eventTime accepts.
func parseTime(s string) int64 {
	s = strings.TrimSpace(s)
	if len(s) < 8 || !isDigit(s[0]) {
		return 0
	}
	if len(s) >= 19 && s[4] == '-' {
		if t, n := parseRFC3339(s); n == len(s) {
			return t
		}
		return 0
	}
	if strings.IndexByte(s, '/') > 0 {
		return parseExportTime(s)
	}
	return parseEpochText(s)
}

// parseRFC3339 parses "2006-01-02T15:04:05[.fraction](Z|±hh:mm|±hhmm)". A space may replace the T
// and a missing zone means UTC (Log Analytics writes both). It returns the time and how many bytes it
// used.
func parseRFC3339(s string) (int64, int) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
		s[13] != ':' || s[16] != ':' {
		return 0, 0
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 {
		return 0, 0
	}
	i := 19
	nanos := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		i++
		start := i
		scale := 100_000_000
		for i < len(s) && isDigit(s[i]) {
			nanos += int(s[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == start {
			return 0, 0
		}
	}
	offset := 0
	if i < len(s) {
		switch s[i] {
		case 'Z', 'z':
			i++
		case '+', '-':
			// ±hh:mm, or ±hhmm as ISO 8601's basic format (and strftime's %z) write it.
			end := i + 5
			mm := i + 3
			if len(s) > i+3 && s[i+3] == ':' {
				end, mm = i+6, i+4
			}
			if len(s) < end {
				return 0, 0
			}
			oh, okh := digits(s[i+1 : i+3])
			om, okm := digits(s[mm:end])
			if !okh || !okm || oh > 23 || om > 59 {
				return 0, 0
			}
			offset = oh*3600 + om*60
			if s[i] == '-' {
				offset = -offset
			}
			i = end
		}
	}
	t := civilNanos(year, month, day, hour, minute, sec, nanos, offset)
	if t == 0 {
		return 0, 0
	}
	return t, i
}

// parseExportTime parses the Log Analytics CSV export style "4/28/2021, 2:08:45.221 PM" (UTC).
func parseExportTime(s string) int64 {
	month, s, ok := leadingNumber(s, 2)
	if !ok || !strings.HasPrefix(s, "/") {
		return 0
	}
	day, s, ok := leadingNumber(s[1:], 2)
	if !ok || !strings.HasPrefix(s, "/") {
		return 0
	}
	year, s, ok := leadingNumber(s[1:], 4)
	if !ok {
		return 0
	}
	s = strings.TrimPrefix(s, ",")
	if !strings.HasPrefix(s, " ") {
		return 0
	}
	hour, s, ok := leadingNumber(s[1:], 2)
	if !ok || !strings.HasPrefix(s, ":") {
		return 0
	}
	minute, s, ok := leadingNumber(s[1:], 2)
	if !ok || !strings.HasPrefix(s, ":") {
		return 0
	}
	sec, s, ok := leadingNumber(s[1:], 2)
	if !ok {
		return 0
	}
	nanos := 0
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		scale := 100_000_000
		for len(s) > 0 && isDigit(s[0]) {
			nanos += int(s[0]-'0') * scale
			scale /= 10
			s = s[1:]
		}
	}
	switch strings.TrimSpace(s) {
	case "AM", "am":
		if hour == 12 {
			hour = 0
		}
	case "PM", "pm":
		if hour < 12 {
			hour += 12
		}
	case "":
	default:
		return 0
	}
	if hour > 23 {
		return 0
	}
	return civilNanos(year, month, day, hour, minute, sec, nanos, 0)
}

// parseEpochText reads a decimal number of seconds, milliseconds, microseconds or nanoseconds.
func parseEpochText(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" {
		return 0
	}
	for i := 0; i < len(whole); i++ {
		if !isDigit(whole[i]) {
			return 0
		}
	}
	if len(whole) > 19 || (len(whole) == 19 && whole > "9223372036854775807") {
		return timeAfterRange // more nanoseconds than an int64 holds
	}
	var n int64
	for i := 0; i < len(whole); i++ {
		n = n*10 + int64(whole[i]-'0')
	}
	fracNanos := int64(0)
	scale := int64(100_000_000)
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0
		}
		fracNanos += int64(frac[i]-'0') * scale
		scale /= 10
	}
	t := epochIntNanos(n)
	if t != 0 && n < 1e11 { // a fraction only means something for seconds
		if t > math.MaxInt64-fracNanos {
			return timeAfterRange
		}
		t += fracNanos
	}
	return t
}

// epochIntNanos scales a whole Unix time by its magnitude: seconds, milliseconds, microseconds or
// nanoseconds. Values below 1e9 (before 2001-09-09 in seconds) are not taken as times: they are more
// likely something else (an Excel serial day, a counter). A time past 2262 saturates to
// timeAfterRange.
func epochIntNanos(n int64) int64 {
	switch {
	case n < 1e9:
		return 0
	case n < 1e11:
		return scaleNanos(n, 1e9)
	case n < 1e14:
		return scaleNanos(n, 1e6)
	case n < 1e17:
		return scaleNanos(n, 1e3)
	}
	return n
}

// scaleNanos is n*unit for a positive n, saturated to timeAfterRange.
func scaleNanos(n, unit int64) int64 {
	if n > math.MaxInt64/unit {
		return timeAfterRange
	}
	return n * unit
}

// epochNanos is epochIntNanos for a double, keeping a fraction of a second. NaN and the infinities
// are not times.
func epochNanos(v float64) int64 {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 1e9 {
		return 0
	}
	if v < 1e11 {
		v *= 1e9 // seconds, with their fraction; now nanoseconds, which epochIntNanos keeps as they are
	}
	// 2^63 (math.MaxInt64 as a double) or more is past 2262 in any unit, and converting it to int64
	// is undefined.
	if v >= math.MaxInt64 {
		return timeAfterRange
	}
	return epochIntNanos(int64(v))
}

// civilNanos converts a civil time at offset seconds east of UTC to Unix nanoseconds: 0 when a part
// is out of range, timeAfterRange or timeBeforeRange when the time is past or before what int64
// nanoseconds hold.
func civilNanos(year, month, day, hour, minute, sec, nanos, offset int) int64 {
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || sec > 60 {
		return 0
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec-offset, nanos, time.UTC)
	switch {
	case t.After(lastNano):
		return timeAfterRange
	case t.Before(firstNano):
		return timeBeforeRange
	}
	return t.UnixNano()
}

// firstNano and lastNano are the first and last times int64 Unix nanoseconds hold.
var (
	firstNano = time.Unix(0, math.MinInt64).UTC()
	lastNano  = time.Unix(0, math.MaxInt64).UTC()
)

// digits parses a fixed-width run of ASCII digits.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, s != ""
}

// leadingNumber parses 1 to maxDigits leading digits and returns the rest.
func leadingNumber(s string, maxDigits int) (int, string, bool) {
	i := 0
	n := 0
	for i < len(s) && i < maxDigits && isDigit(s[i]) {
		n = n*10 + int(s[i]-'0')
		i++
	}
	if i == 0 || (i < len(s) && isDigit(s[i])) {
		return 0, s, false
	}
	return n, s[i:], true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
