package classify

import "go.opentelemetry.io/collector/pdata/pcommon"

// Azure diagnostic settings stream sign-ins to an Event Hub as messages of several records:
// {"records": [ … ]}, a map body (after a JSON parse) or JSON in a string or bytes body. Such a
// message with a sign-in in it is a Wrapper; Unwrap yields each record inside it, a sign-in by its
// kind at its own time.

// keyRecords is the wrapper's array of records in a map body.
var keyRecords = declareKey("records", always)

func init() {
	declareShape(shapeDecl{order: 30, part: always, all: []key{keyRecords}, classify: func(_ *Classifier, _ input, ev *Observation) bool {
		if mapWrapper(ev.d.value(keyRecords), "category") {
			ev.Kind = Wrapper
		}
		return true
	}})
	declareWrapper(wrapperDecl{order: 10, key: "records", part: always, element: (*Classifier).wrappedMap})
	declareJSON(jsonDecl{order: 10, part: always, marker: "SignInLogs", wrapper: `"records"`,
		one: (*Classifier).decodeJSONSignIn, unwrap: (*Classifier).unwrapDiagnostic})
}

// diagWrapper is an Event Hubs message of Azure diagnostic settings: {"records": [ … ]}.
type diagWrapper struct {
	Records []diagSignIn `json:"records"`
}

// diagWrapperProjected is diagWrapper with the projected columns, decoded with the part signinSuccesses.
type diagWrapperProjected struct {
	Records []diagSignInProjected `json:"records"`
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

// unwrapDiagnostic classifies the records of a diagnostic-settings wrapper given as JSON text.
func (c *Classifier) unwrapDiagnostic(s string, ev *Observation, yield func(*Observation)) {
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
