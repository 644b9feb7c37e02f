package classify

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unsafe"

	"go.opentelemetry.io/collector/pdata/pcommon"
)

// The kinds of a sign-in, per table (Table). A sign-in whose ResultType is not excluded, from an
// address that counts, is a failed sign-in; one whose ResultType is excluded (a success) from an
// address that counts is a successful sign-in when a running rule takes those (the part
// signinSuccesses), and a SignIn otherwise, as is every sign-in from an excluded address.
var (
	// FailedSigninLogs is a failed sign-in of SigninLogs.
	FailedSigninLogs = Declare(KindSpec{Name: "failed_signin", Source: "SigninLogs", Columns: signInColumns})
	// FailedNonInteractiveSignIn is a failed sign-in of AADNonInteractiveUserSignInLogs.
	FailedNonInteractiveSignIn = Declare(KindSpec{Name: "failed_signin", Source: "AADNonInteractiveUserSignInLogs", Columns: signInColumns})
	// SigninLogsSuccess is a successful sign-in of SigninLogs (with the part signinSuccesses).
	SigninLogsSuccess = Declare(KindSpec{Name: "signin_success", Source: "SigninLogs", Columns: signInColumns})
	// NonInteractiveSuccess is a successful sign-in of AADNonInteractiveUserSignInLogs (with the
	// part signinSuccesses).
	NonInteractiveSuccess = Declare(KindSpec{Name: "signin_success", Source: "AADNonInteractiveUserSignInLogs", Columns: signInColumns})
	// SignIn is a sign-in that is neither: from an excluded address, or a success no rule takes.
	SignIn = Declare(KindSpec{Name: "signin", Columns: signInColumns})
)

// The columns of every sign-in kind: its row's UserPrincipalName and ResultType (canonical: "50126"
// for 50126.0), and the columns an alert on a successful sign-in projects, read only with the part
// signinSuccesses (and then for every sign-in), "" when the shape does not carry them.
const (
	SignInUserPrincipalName = iota
	SignInResultType
	SignInAppDisplayName
	SignInUserDisplayName
	SignInClientAppUsed
	// SignInLocation is the country or region code: Sentinel's Location, the diagnostic record's
	// location, properties.location.countryOrRegion, or the azure_event_hub receiver's cloud.region.
	SignInLocation
)

// signInColumns names the columns above.
var signInColumns = []string{
	SignInUserPrincipalName: "UserPrincipalName", SignInResultType: "ResultType", SignInAppDisplayName: "AppDisplayName",
	SignInUserDisplayName: "UserDisplayName", SignInClientAppUsed: "ClientAppUsed", SignInLocation: "Location",
}

// signinSuccesses is the part that tells successful sign-ins from other sign-ins and reads the
// columns an alert on one projects (SignInAppDisplayName to SignInLocation) of every sign-in.
// Without it, a success is a SignIn and those columns are not read.
var signinSuccesses = declarePart(SigninLogsSuccess, NonInteractiveSuccess)

// failedSignIns and signInSuccesses are the kinds of each table's failures and successes.
var (
	failedSignIns   = [...]Kind{SigninLogs: FailedSigninLogs, AADNonInteractiveUserSignInLogs: FailedNonInteractiveSignIn}
	signInSuccesses = [...]Kind{SigninLogs: SigninLogsSuccess, AADNonInteractiveUserSignInLogs: NonInteractiveSuccess}
)

// Table is the sign-in table a failure belongs to.
type Table uint8

const (
	// SigninLogs is the interactive sign-in table (Azure category SignInLogs).
	SigninLogs Table = iota
	// AADNonInteractiveUserSignInLogs is the non-interactive table (category NonInteractiveUserSignInLogs).
	AADNonInteractiveUserSignInLogs
)

// String returns the Sentinel table name.
func (t Table) String() string {
	if t == AADNonInteractiveUserSignInLogs {
		return "AADNonInteractiveUserSignInLogs"
	}
	return "SigninLogs"
}

// The shapes of a sign-in: a row of Sentinel's sign-in tables, and a record of Azure's diagnostic
// settings (as the azure_event_hub receiver or the azure_encoding extension hand it on, or parsed
// from JSON), told by its category; the same as JSON in a string or bytes body, and a wrapper of
// them (diagwrapper.go).
var (
	keyCategory      = declareKey("category", always)       // diagnostic settings (also the semantic-conventions body)
	keyAzureCategory = declareKey("azure.category", always) // azure_event_hub "azure" format and azure_encoding
)

func init() {
	declareTable(tableDecl{name: "SigninLogs", part: always, classify: func(c *Classifier, in input, ev *Observation) {
		c.signIn(&in, SigninLogs, ev)
	}})
	declareTable(tableDecl{name: "AADNonInteractiveUserSignInLogs", part: always, classify: func(c *Classifier, in input, ev *Observation) {
		c.signIn(&in, AADNonInteractiveUserSignInLogs, ev)
	}})
	declareShape(shapeDecl{order: 20, part: always, any: []key{keyCategory, keyAzureCategory},
		classify: func(c *Classifier, in input, ev *Observation) bool {
			t, ok := signInCategory(ev.d.value(keyAzureCategory), ev.d.value(keyCategory))
			if ok {
				c.signIn(&in, t, ev)
			}
			return ok
		}})
}

// signInCategory returns the sign-in table named by azure.category, else by category.
func signInCategory(azureCategory, category field) (Table, bool) {
	if cat, ok := azureCategory.str(); ok {
		if t, ok := signInTable(cat); ok {
			return t, true
		}
	}
	if cat, ok := category.str(); ok {
		return signInTable(cat)
	}
	return 0, false
}

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

// signInFieldsProjected are the fields of signInFields and the projected columns, read instead of
// them with the part signinSuccesses.
type signInFieldsProjected struct {
	signInFields
	projected signInProjection
}

// signInProjection holds the columns an alert on a successful sign-in projects, as each shape names
// them: Sentinel's AppDisplayName, UserDisplayName, ClientAppUsed and Location at top level; the
// diagnostic record's location (top level) and appDisplayName, userDisplayName, clientAppUsed and
// location{countryOrRegion} in its properties (flattened into the attributes by azure_encoding);
// and the azure_event_hub receiver's cloud.region, which it makes of the record's location.
type signInProjection struct {
	app, userName, clientApp, location, region field
	propApp, propUserName, propClientApp       field
	propLocation                               field
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

// take is signInFields.take, and the projected columns as well.
func (s *signInFieldsProjected) take(k string, v pcommon.Value) {
	switch k {
	case "AppDisplayName", "appDisplayName":
		s.projected.app.set(v)
	case "UserDisplayName", "userDisplayName":
		s.projected.userName.set(v)
	case "ClientAppUsed", "clientAppUsed":
		s.projected.clientApp.set(v)
	case "Location", "location":
		s.projected.location.set(v)
	case "cloud.region":
		s.projected.region.set(v)
	default:
		s.signInFields.take(k, v)
	}
}

// takeProperty is signInFields.takeProperty, and the projected columns as well.
func (s *signInFieldsProjected) takeProperty(k string, v pcommon.Value) {
	switch k {
	case "appDisplayName":
		s.projected.propApp.set(v)
	case "userDisplayName":
		s.projected.propUserName.set(v)
	case "clientAppUsed":
		s.projected.propClientApp.set(v)
	case "location":
		s.projected.propLocation.set(v)
	default:
		s.signInFields.takeProperty(k, v)
	}
}

// project sets the projected columns of ev, the most specific field of each first.
func (p *signInProjection) project(ev *Observation) {
	ev.Cols[SignInAppDisplayName] = firstText(p.app, p.propApp)
	ev.Cols[SignInUserDisplayName] = firstText(p.userName, p.propUserName)
	ev.Cols[SignInClientAppUsed] = firstText(p.clientApp, p.propClientApp)
	ev.Cols[SignInLocation] = locationText(p.location)
	if ev.Cols[SignInLocation] == "" {
		ev.Cols[SignInLocation] = locationText(p.propLocation)
	}
	if ev.Cols[SignInLocation] == "" {
		ev.Cols[SignInLocation] = p.region.text()
	}
}

// firstText returns the first of the fields that is a non-empty string.
func firstText(a, b field) string {
	if s := a.text(); s != "" {
		return s
	}
	return b.text()
}

// locationText reads a location given as text (a country or region code) or as the sign-in's
// location object, whose countryOrRegion it returns.
func locationText(f field) string {
	if s, ok := f.str(); ok {
		return s
	}
	if m, ok := f.asMap(); ok {
		if v, ok := m.Get("countryOrRegion"); ok && v.Type() == pcommon.ValueTypeStr {
			return v.Str()
		}
	}
	return ""
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
func (c *Classifier) signIn(in *input, t Table, ev *Observation) {
	if c.runs(signinSuccesses) {
		c.signInProjected(in, t, ev)
		return
	}
	c.signInOnly(in, t, ev)
}

// signInOnly is signIn without the part signinSuccesses: the sign-in's fields, not the projected
// columns. (A function of its own, so that its code is laid out as it was before the switch came.)
func (c *Classifier) signInOnly(in *input, t Table, ev *Observation) {
	var s signInFields
	in.each(s.take)
	if props, ok := s.props.asMap(); ok {
		for k, v := range props.All() {
			s.takeProperty(k, v)
		}
	}

	// finishSignInFields, written out: the call would cost every sign-in without the switch.
	ev.Cols[SignInUserPrincipalName] = s.user.text()
	if ev.Cols[SignInUserPrincipalName] == "" {
		ev.Cols[SignInUserPrincipalName] = s.propUser.text()
	}
	ev.Time = in.time(s.time)
	if ev.Time == 0 {
		ev.Time = in.time(s.created)
	}

	code, codeState := c.resultCode(s.result, s.status)
	ip, ipState := firstAddress(s.ip, s.propIP, s.callerIP)
	c.finishSignIn(ev, t, code, codeState, ip, ipState)
}

// signInProjected is signIn with the part signinSuccesses: the same fields, and the projected columns.
// It has its own, larger, set of fields, so that signIn without the switch zeroes no more than it
// needs.
func (c *Classifier) signInProjected(in *input, t Table, ev *Observation) {
	var s signInFieldsProjected
	in.each(s.take)
	if props, ok := s.props.asMap(); ok {
		for k, v := range props.All() {
			s.takeProperty(k, v)
		}
	}
	s.projected.project(ev)
	c.finishSignInFields(in, t, &s.signInFields, ev)
}

// finishSignInFields classifies a sign-in of table t from its fields (signIn has its own copy).
func (c *Classifier) finishSignInFields(in *input, t Table, s *signInFields, ev *Observation) {
	ev.Cols[SignInUserPrincipalName] = s.user.text()
	if ev.Cols[SignInUserPrincipalName] == "" {
		ev.Cols[SignInUserPrincipalName] = s.propUser.text()
	}
	ev.Time = in.time(s.time)
	if ev.Time == 0 {
		ev.Time = in.time(s.created)
	}

	code, codeState := c.resultCode(s.result, s.status)
	ip, ipState := firstAddress(s.ip, s.propIP, s.callerIP)
	c.finishSignIn(ev, t, code, codeState, ip, ipState)
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
func (c *Classifier) finishSignIn(ev *Observation, t Table, code string, codeState valueState, ip string, ipState valueState) {
	switch codeState {
	case valueMissing:
		ev.Kind, ev.Reject = Rejected, RejectMissingResultType
		return
	case valueBad:
		ev.Kind, ev.Reject = Rejected, RejectBadResultType
		return
	}
	ev.Cols[SignInResultType] = code
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
	ev.Kind = failedSignIns[t&1] // (&1: no bounds check; a Table is 0 or 1)
	if c.excludedResult(code) {
		ev.Kind = SignIn
		if c.runs(signinSuccesses) && !c.excludedAddr(addr) {
			ev.Kind = signInSuccesses[t&1]
		}
	} else if c.excludedAddr(addr) {
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
	// The same fields as diagSignInProperties: a struct literal type rather than that named type,
	// which measured some 500 instructions more per decoded record.
	Properties struct {
		IPAddress         jsonScalar `json:"ipAddress"`
		UserPrincipalName string     `json:"userPrincipalName"`
		CreatedDateTime   string     `json:"createdDateTime"`
		Status            struct {
			ErrorCode jsonScalar `json:"errorCode"`
		} `json:"status"`
	} `json:"properties"`
}

// diagSignInProperties are the properties of a diagnostic-settings sign-in record the rule reads.
type diagSignInProperties struct {
	IPAddress         jsonScalar `json:"ipAddress"`
	UserPrincipalName string     `json:"userPrincipalName"`
	CreatedDateTime   string     `json:"createdDateTime"`
	Status            struct {
		ErrorCode jsonScalar `json:"errorCode"`
	} `json:"status"`
}

// diagSignInProjected is diagSignIn with the columns an alert on a successful sign-in projects,
// decoded instead of it with the part signinSuccesses.
type diagSignInProjected struct {
	Category        string     `json:"category"`
	Time            string     `json:"time"`
	ResultType      jsonScalar `json:"resultType"`
	CallerIPAddress jsonScalar `json:"callerIpAddress"`
	Location        string     `json:"location"`
	Properties      struct {
		diagSignInProperties
		AppDisplayName  string `json:"appDisplayName"`
		UserDisplayName string `json:"userDisplayName"`
		ClientAppUsed   string `json:"clientAppUsed"`
		Location        struct {
			CountryOrRegion string `json:"countryOrRegion"`
		} `json:"location"`
	} `json:"properties"`
}

// signIn returns the fields diagSignIn holds.
func (p *diagSignInProjected) signIn() diagSignIn {
	return diagSignIn{
		Category:        p.Category,
		Time:            p.Time,
		ResultType:      p.ResultType,
		CallerIPAddress: p.CallerIPAddress,
		Properties:      p.Properties.diagSignInProperties,
	}
}

// project sets the projected columns of ev.
func (p *diagSignInProjected) project(ev *Observation) {
	ev.Cols[SignInAppDisplayName] = p.Properties.AppDisplayName
	ev.Cols[SignInUserDisplayName] = p.Properties.UserDisplayName
	ev.Cols[SignInClientAppUsed] = p.Properties.ClientAppUsed
	ev.Cols[SignInLocation] = p.Location
	if ev.Cols[SignInLocation] == "" {
		ev.Cols[SignInLocation] = p.Properties.Location.CountryOrRegion
	}
}

// decodeJSON decodes s into v, reading s in place (the decoder never writes to its input, and copies
// every string it keeps). A value of an unexpected type is skipped by the decoder
// (UnmarshalTypeError) and the rest is still filled; only malformed JSON makes it return false.
func decodeJSON(s string, v any) bool {
	if err := json.Unmarshal(unsafe.Slice(unsafe.StringData(s), len(s)), v); err != nil {
		if _, typeErr := err.(*json.UnmarshalTypeError); !typeErr {
			return false
		}
	}
	return true
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

// decodeJSONSignIn classifies a string body holding one diagnostic-settings record. The substring checks
// keep the JSON decoder away from every other JSON body.
func (c *Classifier) decodeJSONSignIn(s string, ev *Observation) {
	if !strings.Contains(s, `"category"`) {
		return
	}
	var r diagSignIn
	var p *diagSignInProjected
	if c.runs(signinSuccesses) {
		p = new(diagSignInProjected)
		if !decodeJSON(s, p) {
			return
		}
		r = p.signIn()
	} else if !decodeJSON(s, &r) {
		return // malformed JSON: Unrelated
	}
	c.diagRecord(&r, p, ev)
}

// diagRecord classifies one decoded diagnostic-settings record (p, when not nil, is r with the
// projected columns); false when its category is no sign-in table's, and ev is left as it was.
func (c *Classifier) diagRecord(r *diagSignIn, p *diagSignInProjected, ev *Observation) bool {
	t, ok := signInTable(r.Category)
	if !ok {
		return false
	}
	if p != nil {
		p.project(ev)
	}
	ev.Cols[SignInUserPrincipalName] = r.Properties.UserPrincipalName
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
	c.finishSignIn(ev, t, codeText, codeState, ip, ipState)
	return true
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
