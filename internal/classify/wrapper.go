package classify

import (
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Bounds on one wrapper, so that a hostile message costs a counted rejection, not unbounded work.
const (
	// MaxWrapperBytes is the longest wrapper text (string or bytes body) that is decoded. An Event
	// Hubs message is at most 1 MiB (the premium tier's limit), a CloudTrail log file a few MiB.
	MaxWrapperBytes = 64 << 20
	// MaxWrapperRecords is how many elements of a map-body wrapper are read.
	MaxWrapperRecords = 1 << 20
)

// diagWrapper is an Event Hubs message of Azure diagnostic settings: {"records": [ … ]}.
type diagWrapper struct {
	Records []diagSignIn `json:"records"`
}

// diagWrapperProjected is diagWrapper with the projected columns, decoded with the part signinSuccesses.
type diagWrapperProjected struct {
	Records []diagSignInProjected `json:"records"`
}

// mapWrapper reports whether a records field is a wrapper's array: an array whose first object has
// the key (an application's own "records" array is not a wrapper, and costs no rejections).
func mapWrapper(records field, key string) bool {
	if records.v.Type() != pcommon.ValueTypeSlice {
		return false
	}
	s := records.v.Slice()
	for i := 0; i < s.Len(); i++ {
		if r := s.At(i); r.Type() == pcommon.ValueTypeMap {
			_, ok := r.Map().Get(key)
			return ok
		}
	}
	return false
}

// bytesText reads a bytes value as text in place; the text is only read while the record is.
// pcommon.ByteSlice hands its bytes out only as a copy (AsRaw), and a wrapper of megabytes would be
// copied twice per record (Classify and Unwrap): a ByteSlice is a pointer to its slice and a state
// pointer, and the slice is read through the first. TestBytesTextInPlace holds this against the
// pdata version in use.
func bytesText(bs pcommon.ByteSlice) string {
	if bs.Len() == 0 {
		return ""
	}
	b := **(**[]byte)(unsafe.Pointer(&bs))
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Unwrap classifies the records inside a record that Classify found to be a Wrapper, calling yield
// once per element with ev filled (reset first): a sign-in or a console login by its kind, an
// element of another category or event Unrelated, and an element that is no record Rejected. A wrapper that cannot be read
// yields one Rejected. ev is only valid during the call; the strings in it alias the record's
// values or strings decoded for this call. The record is never modified.
func (c *Classifier) Unwrap(rec plog.LogRecord, ev *Observation, yield func(*Observation)) {
	body := rec.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		c.unwrapJSON(trimLeadingSpace(body.Str()), ev, yield)
		return
	case pcommon.ValueTypeBytes:
		c.unwrapJSON(trimLeadingSpace(bytesText(body.Bytes())), ev, yield)
		return
	}
	for _, m := range []pcommon.Map{rec.Attributes(), body.Map()} {
		if m == (pcommon.Map{}) {
			continue
		}
		if v, ok := m.Get("records"); ok {
			c.unwrapMap(v, ev, c.wrappedMap, yield)
			return
		}
		if v, ok := m.Get("Records"); ok && c.runs(consoleLogins) {
			c.unwrapMap(v, ev, c.wrappedTrailMap, yield)
			return
		}
	}
	rejectInto(ev, RejectBadWrapper, yield)
}

// rejectInto yields one rejection for reason.
func rejectInto(ev *Observation, reason string, yield func(*Observation)) {
	reset(ev)
	ev.Kind, ev.Reject = Rejected, reason
	yield(ev)
}

// unwrapMap classifies the elements of a wrapper that arrived as a map (a JSON parse upstream), each
// with classify.
func (c *Classifier) unwrapMap(v pcommon.Value, ev *Observation, classify func(pcommon.Map, *Observation), yield func(*Observation)) {
	if v.Type() != pcommon.ValueTypeSlice {
		rejectInto(ev, RejectBadWrapper, yield)
		return
	}
	records := v.Slice()
	for i := 0; i < records.Len(); i++ {
		if i == MaxWrapperRecords {
			rejectInto(ev, RejectWrapperTooLarge, yield)
			return
		}
		reset(ev)
		if r := records.At(i); r.Type() == pcommon.ValueTypeMap {
			classify(r.Map(), ev)
		} else {
			ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
		}
		ev.InWrapper = true
		yield(ev)
	}
}

// wrappedMap classifies one element of a map wrapper: a diagnostic-settings record, whose fields
// are all its own (the message's attributes are not the sign-in's).
func (c *Classifier) wrappedMap(m pcommon.Map, ev *Observation) {
	var category field
	if v, ok := m.Get("category"); ok {
		category = field{v}
	}
	cat, ok := category.str()
	if !ok {
		ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
		return
	}
	if t, ok := signInTable(cat); ok {
		c.signIn(&input{attrs: m}, t, ev)
	}
}

// wrappedTrailMap classifies one event of a CloudTrail log file parsed into a map.
func (c *Classifier) wrappedTrailMap(m pcommon.Map, ev *Observation) {
	_, named := m.Get("eventName")
	_, versioned := m.Get("eventVersion")
	if !named && !versioned { // an Insights event has no eventName, every event has a version
		ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
		return
	}
	c.cloudTrail(&input{attrs: m}, ev)
}

// jsonKind is what a JSON body may hold, told by substrings alone.
type jsonKind uint8

const (
	jsonUnrelated     jsonKind = iota
	jsonSignIn                 // one diagnostic-settings record with "SignInLogs" in it
	diagnosticWrapper          // {"records": [ … ]} with a sign-in in it
	jsonCloudTrail             // one CloudTrail event with "ConsoleLogin" in it (the part consoleLogins)
	cloudTrailFile             // {"Records": [ … ]} with a ConsoleLogin in it (the part consoleLogins)
)

// jsonBodyKind tells what a JSON body may hold. Any other JSON body costs one substring search.
func (c *Classifier) jsonBodyKind(s string) jsonKind {
	// "SignInLogs" first: its first byte is rarer in JSON than the quote that starts "category".
	if strings.Contains(s, "SignInLogs") {
		if strings.Contains(s, `"records"`) {
			return diagnosticWrapper
		}
		return jsonSignIn
	}
	if c.runs(consoleLogins) && strings.Contains(s, "ConsoleLogin") {
		if strings.Contains(s, `"Records"`) {
			return cloudTrailFile
		}
		return jsonCloudTrail
	}
	return jsonUnrelated
}

// cloudTrailLogFile is a CloudTrail log file: {"Records": [ … ]}.
type cloudTrailLogFile struct {
	Records []cloudTrailEvent `json:"Records"`
}

// unwrapJSON classifies the elements of a wrapper given as JSON text.
func (c *Classifier) unwrapJSON(s string, ev *Observation, yield func(*Observation)) {
	if len(s) > MaxWrapperBytes {
		rejectInto(ev, RejectWrapperTooLarge, yield)
		return
	}
	if c.jsonBodyKind(s) == cloudTrailFile {
		var f cloudTrailLogFile
		if !decodeJSON(s, &f) || f.Records == nil {
			rejectInto(ev, RejectBadWrapper, yield)
			return
		}
		for i := range f.Records {
			e := &f.Records[i]
			reset(ev)
			if e.EventName == "" && e.EventVersion == "" { // not an object, or not an event
				ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
			} else {
				c.cloudTrailRecord(e, ev)
			}
			ev.InWrapper = true
			yield(ev)
		}
		return
	}
	if c.runs(signinSuccesses) {
		var w diagWrapperProjected
		if !decodeJSON(s, &w) || w.Records == nil {
			rejectInto(ev, RejectBadWrapper, yield)
			return
		}
		for i := range w.Records {
			p := &w.Records[i]
			r := p.signIn()
			c.wrappedJSON(&r, p, ev, yield)
		}
		return
	}
	var w diagWrapper
	if !decodeJSON(s, &w) || w.Records == nil {
		rejectInto(ev, RejectBadWrapper, yield)
		return
	}
	for i := range w.Records {
		c.wrappedJSON(&w.Records[i], nil, ev, yield)
	}
}

// wrappedJSON classifies and yields one decoded element. An element that was not an object (the
// decoder skips it, leaving it zero) or has no category is rejected.
func (c *Classifier) wrappedJSON(r *diagSignIn, p *diagSignInProjected, ev *Observation, yield func(*Observation)) {
	reset(ev)
	if r.Category == "" {
		ev.Kind, ev.Reject = Rejected, RejectBadWrappedRecord
	} else {
		c.diagRecord(r, p, ev)
	}
	ev.InWrapper = true
	yield(ev)
}
