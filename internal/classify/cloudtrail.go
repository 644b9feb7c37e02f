package classify

import (
	"encoding/json"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// AWS CloudTrail: a console login is an event named ConsoleLogin (from signin.amazonaws.com) whose
// responseElements.ConsoleLogin says Success or Failure. It arrives as
//
//   - a row of Sentinel's AWSCloudTrail table (Type = AWSCloudTrail): EventName, SourceIpAddress,
//     ResponseElements and AdditionalEventData (both JSON text), UserIdentityType,
//     UserIdentityUserName, AWSRegion, UserAgent, EventTypeName, TimeGenerated;
//   - a CloudTrail event as AWS writes it (a map body after a JSON parse, or the JSON in a string
//     or bytes body): eventName, eventSource, sourceIPAddress, responseElements{ConsoleLogin},
//     userIdentity{type, userName}, awsRegion, userAgent, additionalEventData{MFAUsed}, eventType,
//     eventTime;
//   - a CloudTrail log file, {"Records": [ … ]} of such events, as the filelog receiver reads it
//     (a wrapper, see Unwrap).
//
// Every other CloudTrail event is Unrelated: a map body is dismissed on its eventName, a JSON body
// that does not contain "ConsoleLogin" is never decoded.

// The kinds of an AWS console login from an address that counts, by its result, with the part
// consoleLogins; without it, CloudTrail is Unrelated and costs what any other record costs.
var (
	// ConsoleLoginFailure is an AWS console login whose result is Failure.
	ConsoleLoginFailure = Declare(KindSpec{Name: "console_login_failure", Source: "AWSCloudTrail", Columns: consoleColumns})
	// ConsoleLoginSuccess is an AWS console login whose result is Success.
	ConsoleLoginSuccess = Declare(KindSpec{Name: "console_login_success", Source: "AWSCloudTrail", Columns: consoleColumns})
)

// The columns of a console login, as Sentinel's AWSCloudTrail columns name them.
const (
	// ConsoleLoginResult is responseElements.ConsoleLogin as given ("Success", "Failure").
	ConsoleLoginResult = iota
	// ConsoleEventTypeName is eventType ("AwsConsoleSignIn").
	ConsoleEventTypeName
	// ConsoleUserIdentityType is userIdentity.type ("IAMUser", "Root", "AssumedRole", ...).
	ConsoleUserIdentityType
	// ConsoleUserIdentityUserName is userIdentity.userName.
	ConsoleUserIdentityUserName
	ConsoleAWSRegion
	ConsoleUserAgent
	// ConsoleMFAUsed is additionalEventData.MFAUsed ("Yes", "No").
	ConsoleMFAUsed
)

// consoleColumns names the columns above.
var consoleColumns = []string{
	ConsoleLoginResult: "LoginResult", ConsoleEventTypeName: "EventTypeName", ConsoleUserIdentityType: "UserIdentityType",
	ConsoleUserIdentityUserName: "UserIdentityUserName", ConsoleAWSRegion: "AWSRegion", ConsoleUserAgent: "UserAgent",
	ConsoleMFAUsed: "MFAUsed",
}

// consoleLogins is the part that recognises AWS console logins, in every CloudTrail shape.
var consoleLogins = declarePart(ConsoleLoginFailure, ConsoleLoginSuccess)

// RejectBadLoginResult: a console login whose responseElements.ConsoleLogin is neither Success nor
// Failure (or missing).
var RejectBadLoginResult = declareReject("bad_login_result")

// The shapes of a CloudTrail event: a row of Sentinel's AWSCloudTrail table, an event as AWS writes
// it (a map body with eventSource, or JSON with ConsoleLogin in it in a string or bytes body), and a
// log file of them, {"Records": [ … ]} (a map body, or JSON), a wrapper Unwrap opens. All of it is
// the part consoleLogins: without it, none of these keys is looked at.
var (
	keyEventSource  = declareFlag("eventSource", consoleLogins)
	keyEventName    = declareKey("eventName", consoleLogins) // to drop other events before reading more
	_               = declareAlias("EventName", keyEventName, consoleLogins)
	keyTrailRecords = declareKey("Records", consoleLogins)
)

func init() {
	declareTable(tableDecl{name: "AWSCloudTrail", part: consoleLogins, classify: func(c *Classifier, in input, ev *Observation) {
		if consoleLoginName(ev.d.value(keyEventName)) {
			c.cloudTrail(&in, ev)
		}
	}})
	declareShape(shapeDecl{order: 40, part: consoleLogins, all: []key{keyEventSource},
		classify: func(c *Classifier, in input, ev *Observation) bool {
			if consoleLoginName(ev.d.value(keyEventName)) {
				c.cloudTrail(&in, ev)
			}
			return true
		}})
	declareShape(shapeDecl{order: 50, part: consoleLogins, all: []key{keyTrailRecords},
		classify: func(_ *Classifier, _ input, ev *Observation) bool {
			if mapWrapper(ev.d.value(keyTrailRecords), "eventName") {
				ev.Kind = Wrapper
			}
			return true
		}})
	declareJSON(jsonDecl{order: 20, part: consoleLogins, marker: "ConsoleLogin", wrapper: `"Records"`,
		one: (*Classifier).decodeJSONCloudTrail, unwrap: (*Classifier).unwrapCloudTrailFile})
	declareWrapper(wrapperDecl{order: 20, key: "Records", part: consoleLogins, element: (*Classifier).wrappedTrailMap})
}

// cloudTrailFields are the console-login fields of both the Sentinel row and the raw event.
type cloudTrailFields struct {
	eventName, responseElements, additional  field
	ip, identity, identityType, identityUser field
	region, agent, eventType, time           field
}

func (f *cloudTrailFields) take(k string, v pcommon.Value) {
	switch k {
	case "EventName", "eventName":
		f.eventName.set(v)
	case "ResponseElements", "responseElements":
		f.responseElements.set(v)
	case "AdditionalEventData", "additionalEventData":
		f.additional.set(v)
	case "SourceIpAddress", "sourceIPAddress":
		f.ip.set(v)
	case "userIdentity":
		f.identity.set(v)
	case "UserIdentityType":
		f.identityType.set(v)
	case "UserIdentityUserName":
		f.identityUser.set(v)
	case "AWSRegion", "awsRegion":
		f.region.set(v)
	case "UserAgent", "userAgent":
		f.agent.set(v)
	case "EventTypeName", "eventType":
		f.eventType.set(v)
	case "TimeGenerated", "eventTime":
		f.time.set(v)
	}
}

// isConsoleLogin reports whether an event name is ConsoleLogin.
func isConsoleLogin(name string) bool { return strings.EqualFold(name, "ConsoleLogin") }

// consoleLoginName reports whether an eventName field found among the discriminators names a
// console login: every other event is dismissed before its fields are read.
func consoleLoginName(f field) bool {
	name, ok := f.str()
	return ok && isConsoleLogin(name)
}

// cloudTrail classifies a record recognised as a CloudTrail event (either structured shape).
func (c *Classifier) cloudTrail(in *input, ev *Observation) {
	var f cloudTrailFields
	in.each(f.take)
	if name, ok := f.eventName.str(); !ok || !isConsoleLogin(name) {
		return // Unrelated
	}
	ev.Cols[ConsoleEventTypeName] = f.eventType.text()
	ev.Cols[ConsoleAWSRegion] = f.region.text()
	ev.Cols[ConsoleUserAgent] = f.agent.text()
	ev.Cols[ConsoleUserIdentityType] = f.identityType.text()
	ev.Cols[ConsoleUserIdentityUserName] = f.identityUser.text()
	if m, ok := f.identity.asMap(); ok {
		ev.Cols[ConsoleUserIdentityType] = mapText(m, "type")
		ev.Cols[ConsoleUserIdentityUserName] = mapText(m, "userName")
	}
	ev.Cols[ConsoleMFAUsed] = objectText(f.additional, "MFAUsed")
	ev.Time = in.time(f.time)
	ip, ipState := firstAddress(f.ip)
	c.finishConsoleLogin(ev, objectText(f.responseElements, "ConsoleLogin"), ip, ipState)
}

// mapText is m[k] when it is a string, a number or a boolean, as text.
func mapText(m pcommon.Map, k string) string {
	v, ok := m.Get(k)
	if !ok {
		return ""
	}
	switch v.Type() {
	case pcommon.ValueTypeStr, pcommon.ValueTypeBool, pcommon.ValueTypeInt, pcommon.ValueTypeDouble:
		return v.AsString()
	}
	return ""
}

// objectText reads key k of an object given as a map, or as JSON text (Sentinel's dynamic columns
// exported as text).
func objectText(f field, k string) string {
	if m, ok := f.asMap(); ok {
		return mapText(m, k)
	}
	if s, ok := f.str(); ok && strings.Contains(s, k) {
		var o jsonObject
		if decodeJSON(s, &o) {
			return o.text(k)
		}
	}
	return ""
}

// finishConsoleLogin decides the kind of a console login from its result and address. A login from
// an excluded address is Unrelated, as logons from one are.
func (c *Classifier) finishConsoleLogin(ev *Observation, result, ip string, ipState valueState) {
	ev.Cols[ConsoleLoginResult] = result
	var kind Kind
	switch {
	case strings.EqualFold(result, "Success"):
		kind = ConsoleLoginSuccess
	case strings.EqualFold(result, "Failure"):
		kind = ConsoleLoginFailure
	default:
		ev.Kind, ev.Reject = Rejected, RejectBadLoginResult
		return
	}
	switch ipState {
	case valueMissing:
		ev.Kind, ev.Reject = Rejected, RejectMissingAddress
		return
	case valueBad:
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	}
	addr, ok := ParseAddr(ip)
	if !ok {
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	}
	if c.excludedAddr(addr) {
		return // Unrelated
	}
	ev.Addr, ev.Kind = addr, kind
}

// cloudTrailEvent is the part of a CloudTrail event (JSON) a console login is read from. The
// decoder matches keys case-insensitively, so a Sentinel row exported as JSON reads as well; its
// ResponseElements and AdditionalEventData are JSON text, which jsonObject also reads.
type cloudTrailEvent struct {
	EventVersion     string     `json:"eventVersion"`
	EventName        string     `json:"eventName"`
	EventSource      string     `json:"eventSource"`
	EventType        string     `json:"eventType"`
	EventTypeName    string     `json:"EventTypeName"`
	EventTime        string     `json:"eventTime"`
	TimeGenerated    string     `json:"TimeGenerated"`
	SourceIPAddress  jsonScalar `json:"sourceIPAddress"`
	AWSRegion        string     `json:"awsRegion"`
	UserAgent        string     `json:"userAgent"`
	UserIdentityType string     `json:"UserIdentityType"`
	UserIdentityName string     `json:"UserIdentityUserName"`
	UserIdentity     struct {
		Type     string `json:"type"`
		UserName string `json:"userName"`
	} `json:"userIdentity"`
	ResponseElements    jsonObject `json:"responseElements"`
	AdditionalEventData jsonObject `json:"additionalEventData"`
}

// jsonObject is a JSON object, or JSON text holding one, kept as its members' JSON.
type jsonObject map[string]json.RawMessage

// UnmarshalJSON implements json.Unmarshaler: an object, or a string of JSON text holding one;
// anything else (null, a number, text that is no object) leaves it empty.
func (o *jsonObject) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var text string
		if json.Unmarshal(b, &text) != nil {
			return nil
		}
		b = []byte(text)
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) == nil {
		*o = m
	}
	return nil
}

// text is member k when it is a string, a number or a boolean (MFAUsed is "Yes" or "No" in
// CloudTrail's own events, true in some), as text.
func (o jsonObject) text(k string) string {
	raw := o[k]
	switch {
	case len(raw) == 0:
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case string(raw) == "true" || string(raw) == "false":
		return string(raw)
	case raw[0] == '-' || isDigit(raw[0]):
		return canonicalNumber(string(raw))
	}
	return ""
}

// decodeJSONCloudTrail classifies a string or bytes body holding one CloudTrail event.
func (c *Classifier) decodeJSONCloudTrail(s string, ev *Observation) {
	var e cloudTrailEvent
	if !decodeJSON(s, &e) {
		return
	}
	c.cloudTrailRecord(&e, ev)
}

// cloudTrailRecord classifies one decoded CloudTrail event.
func (c *Classifier) cloudTrailRecord(e *cloudTrailEvent, ev *Observation) {
	if !isConsoleLogin(e.EventName) {
		return
	}
	ev.Cols[ConsoleEventTypeName] = firstNonEmpty(e.EventType, e.EventTypeName)
	ev.Cols[ConsoleAWSRegion] = e.AWSRegion
	ev.Cols[ConsoleUserAgent] = e.UserAgent
	ev.Cols[ConsoleUserIdentityType] = firstNonEmpty(e.UserIdentity.Type, e.UserIdentityType)
	ev.Cols[ConsoleUserIdentityUserName] = firstNonEmpty(e.UserIdentity.UserName, e.UserIdentityName)
	ev.Cols[ConsoleMFAUsed] = e.AdditionalEventData.text("MFAUsed")
	ev.Time = parseTime(firstNonEmpty(e.EventTime, e.TimeGenerated))
	ip, ipState := firstJSONAddress(e.SourceIPAddress)
	c.finishConsoleLogin(ev, e.ResponseElements.text("ConsoleLogin"), ip, ipState)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cloudTrailLogFile is a CloudTrail log file: {"Records": [ … ]}.
type cloudTrailLogFile struct {
	Records []cloudTrailEvent `json:"Records"`
}

// unwrapCloudTrailFile classifies the events of a CloudTrail log file given as JSON text.
func (c *Classifier) unwrapCloudTrailFile(s string, ev *Observation, yield func(*Observation)) {
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
