package classify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// signInTable maps a Sentinel Type or an Azure category to its sign-in table.
func signInTable(name string) (Table, bool) {
	switch {
	case strings.EqualFold(name, "SignInLogs"): // category SignInLogs, Type SigninLogs
		return SigninLogs, true
	case strings.EqualFold(name, "NonInteractiveUserSignInLogs"),
		strings.EqualFold(name, "AADNonInteractiveUserSignInLogs"):
		return AADNonInteractiveUserSignInLogs, true
	}
	return 0, false
}

// signInFields are the sign-in fields of every sign-in shape, found in one pass:
//
//   - Sentinel: IPAddress, ResultType, UserPrincipalName, TimeGenerated (CreatedDateTime in exports)
//   - diagnostic settings: callerIpAddress, resultType, time, properties{ipAddress, userPrincipalName,
//     status{errorCode}, createdDateTime}
//   - azure_event_hub "azure" format: azure.result.type, network.peer.address or net.sock.peer.addr,
//     azure.properties{…}
//   - azure_event_hub semantic conventions (body): result.type, network.peer.address, properties{…}
//   - azure_encoding: azure.result.type, network.peer.address, and the properties flattened into
//     attributes: ipAddress, userPrincipalName, status{errorCode}
type signInFields struct {
	ip, propIP, callerIP field
	result, status       field
	user, propUser       field
	time, created        field
	props                field
}

func (s *signInFields) take(k string, v pcommon.Value) {
	switch k {
	case "IPAddress", "ipAddress":
		s.ip.set(v)
	case "callerIpAddress", "network.peer.address", "net.sock.peer.addr":
		s.callerIP.set(v)
	case "ResultType", "resultType", "result.type", "azure.result.type":
		s.result.set(v)
	case "status", "Status":
		s.status.set(v)
	case "UserPrincipalName", "userPrincipalName":
		s.user.set(v)
	case "TimeGenerated", "time":
		s.time.set(v)
	case "CreatedDateTime", "createdDateTime":
		s.created.set(v)
	case "properties", "azure.properties":
		s.props.set(v)
	}
}

func (s *signInFields) takeProperty(k string, v pcommon.Value) {
	switch k {
	case "ipAddress":
		s.propIP.set(v)
	case "userPrincipalName":
		s.propUser.set(v)
	case "status":
		s.status.set(v)
	case "createdDateTime":
		s.created.set(v)
	}
}

// valueState is what a record holds for one required field.
type valueState uint8

const (
	valueMissing valueState = iota
	valueBad                // present but empty or of the wrong type
	valueOK
)

// signIn classifies a record recognised as a sign-in of table t.
func (c *Classifier) signIn(in *input, t Table, ev *Event) {
	var s signInFields
	in.each(s.take)
	if props, ok := s.props.asMap(); ok {
		for k, v := range props.All() {
			s.takeProperty(k, v)
		}
	}

	ev.Table = t
	ev.User = s.user.text()
	if ev.User == "" {
		ev.User = s.propUser.text()
	}
	ev.Time = in.time(s.time)
	if ev.Time == 0 {
		ev.Time = in.time(s.created)
	}

	code, codeState := c.resultCode(s.result, s.status)
	ip, ipState := firstAddress(s.ip, s.propIP, s.callerIP)
	c.finishSignIn(ev, code, codeState, ip, ipState)
}

// resultCode reads ResultType, else status.errorCode.
func (c *Classifier) resultCode(result, status field) (string, valueState) {
	if !result.ok() {
		if m, ok := status.asMap(); ok {
			if v, ok := m.Get("errorCode"); ok {
				result = field{v}
			}
		}
	}
	if !result.ok() {
		return "", valueMissing
	}
	code, ok := canonicalCode(result.v, c.excludedResults)
	if !ok {
		return "", valueBad
	}
	if code == "" {
		return "", valueMissing
	}
	return code, valueOK
}

// firstAddress returns the first non-empty string among the address fields, most specific first.
func firstAddress(candidates ...field) (string, valueState) {
	state := valueMissing
	for _, f := range candidates {
		if !f.ok() {
			continue
		}
		state = valueBad
		if s, ok := f.str(); ok {
			if s = strings.TrimSpace(s); s != "" {
				return s, valueOK
			}
		}
	}
	return "", state
}

// finishSignIn decides the kind of a sign-in from its ResultType and address. A recognised sign-in
// whose ResultType or address cannot be read is Rejected, whatever its result: it is a sign-in the
// pipeline delivers without the data the rule needs, and that is worth counting.
func (c *Classifier) finishSignIn(ev *Event, code string, codeState valueState, ip string, ipState valueState) {
	switch codeState {
	case valueMissing:
		ev.Kind, ev.Reject = Rejected, RejectMissingResultType
		return
	case valueBad:
		ev.Kind, ev.Reject = Rejected, RejectBadResultType
		return
	}
	ev.ResultType = code
	if ipState == valueMissing {
		ev.Kind, ev.Reject = Rejected, RejectMissingAddress
		return
	}
	addr, ok := ParseAddr(ip)
	if !ok {
		ev.Kind, ev.Reject = Rejected, RejectBadAddress
		return
	}
	ev.Addr = addr
	ev.Kind = FailedSignIn
	if c.excludedResult(code) || c.excludedAddr(addr) {
		ev.Kind = SignIn
	}
}

// excludedResult reports whether a canonical ResultType is one the rule does not count as a failure.
func (c *Classifier) excludedResult(code string) bool {
	for _, x := range c.excludedResults {
		if code == x {
			return true
		}
	}
	return false
}

// diagSignIn is the part of an Azure diagnostic-settings sign-in record (category SignInLogs or
// NonInteractiveUserSignInLogs) the rule reads.
type diagSignIn struct {
	Category        string     `json:"category"`
	Time            string     `json:"time"`
	ResultType      jsonScalar `json:"resultType"`
	CallerIPAddress jsonScalar `json:"callerIpAddress"`
	Properties      struct {
		IPAddress         jsonScalar `json:"ipAddress"`
		UserPrincipalName string     `json:"userPrincipalName"`
		CreatedDateTime   string     `json:"createdDateTime"`
		Status            struct {
			ErrorCode jsonScalar `json:"errorCode"`
		} `json:"status"`
	} `json:"properties"`
}

// jsonScalar is a JSON string or number kept as text; numbers in canonical form ("50126" for 50126.0).
type jsonScalar struct {
	s   string
	set bool
	bad bool // an object, array or boolean
}

// UnmarshalJSON implements json.Unmarshaler.
func (j *jsonScalar) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		if len(b) >= 2 && bytes.IndexByte(b, '\\') < 0 {
			j.s, j.set = string(b[1:len(b)-1]), true // no escapes: the common case, without a decoder
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			j.set, j.bad = true, true
			return nil
		}
		j.s, j.set = s, true
	case b[0] == '-' || isDigit(b[0]):
		j.s, j.set = canonicalNumber(string(b)), true
	default:
		j.set, j.bad = true, true
	}
	return nil
}

func (j jsonScalar) state() valueState {
	switch {
	case !j.set:
		return valueMissing
	case j.bad:
		return valueBad
	}
	return valueOK
}

// canonicalNumber renders a JSON number as an integer when it is one (5.0126e4 and 50126.0 are 50126).
func canonicalNumber(s string) string {
	if _, ok := parseInteger(s); ok {
		return trimZeroFraction(s)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if n, ok := integralDouble(f); ok {
			return strconv.FormatInt(n, 10)
		}
	}
	return s
}

// jsonSignIn classifies a string body holding one diagnostic-settings record. The substring checks
// keep the JSON decoder away from every other JSON body.
func (c *Classifier) jsonSignIn(s string, ev *Event) {
	// "SignInLogs" first: its first byte is rarer in JSON than the quote that starts "category".
	if !strings.Contains(s, "SignInLogs") || !strings.Contains(s, `"category"`) {
		return
	}
	var r diagSignIn
	// A value of an unexpected type is skipped by the decoder (UnmarshalTypeError) and the rest is
	// still filled; only malformed JSON makes the record Unrelated.
	if err := json.Unmarshal([]byte(s), &r); err != nil {
		if _, typeErr := err.(*json.UnmarshalTypeError); !typeErr {
			return
		}
	}
	t, ok := signInTable(r.Category)
	if !ok {
		return
	}
	ev.Table = t
	ev.User = r.Properties.UserPrincipalName
	ev.Time = parseTime(r.Time)
	if ev.Time == 0 {
		ev.Time = parseTime(r.Properties.CreatedDateTime)
	}

	code, codeState := r.ResultType, r.ResultType.state()
	if codeState == valueMissing {
		code, codeState = r.Properties.Status.ErrorCode, r.Properties.Status.ErrorCode.state()
	}
	codeText := canonicalCodeString(code.s)
	if codeState == valueOK && codeText == "" {
		codeState = valueMissing
	}
	ip, ipState := firstJSONAddress(r.Properties.IPAddress, r.CallerIPAddress)
	c.finishSignIn(ev, codeText, codeState, ip, ipState)
}

func firstJSONAddress(candidates ...jsonScalar) (string, valueState) {
	state := valueMissing
	for _, j := range candidates {
		if !j.set {
			continue
		}
		state = valueBad
		if s := strings.TrimSpace(j.s); s != "" && !j.bad {
			return s, valueOK
		}
	}
	return "", state
}
