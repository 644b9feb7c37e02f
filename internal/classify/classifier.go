package classify

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Rules are the rule's tunables that decide what counts. A nil slice means the rule's default; an
// empty non-nil slice means none.
type Rules struct {
	// ExcludedResultTypes are sign-in ResultTypes that are not failures (default "0", "50125",
	// "50140"): such sign-ins are no failed sign-ins.
	ExcludedResultTypes []string
	// ExcludedIPs are addresses never counted (default 127.0.0.1/32 and ::1/128): sign-ins from them
	// are Kind SignIn, logons from them Unrelated.
	ExcludedIPs []netip.Prefix
	// LogonTypes are the Windows logon types that count (default 10, 7, 3), for 4624 logons and
	// 4625 failed logons.
	LogonTypes []int

	// Kinds are the kinds the running rules use. A part of the classifier that yields kinds no
	// running rule uses does not run (see part): the seed's rule alone leaves its records as they
	// were before those parts existed, at the same cost.
	Kinds []Kind
}

// DefaultRules returns the seed rule's values.
func DefaultRules() Rules {
	return Rules{
		ExcludedResultTypes: []string{"0", "50125", "50140"},
		ExcludedIPs: []netip.Prefix{
			netip.MustParsePrefix("127.0.0.1/32"),
			netip.MustParsePrefix("::1/128"),
		},
		LogonTypes: []int{10, 7, 3},
	}
}

// Classifier recognises the input shapes of the rule in log records. It holds no mutable state, so
// one Classifier may be used by any number of goroutines at once.
type Classifier struct {
	excludedResults []string
	excludedIPs     []netip.Prefix
	logonTypes      []int64
	logonTypeNames  []string // canonical decimal form of logonTypes, aliased into the column HostLogonType
	parts           uint64   // bit p set: part p runs
}

// New returns a Classifier for r; nil slices in r take the defaults (see Rules).
func New(r Rules) *Classifier {
	def := DefaultRules()
	if r.ExcludedResultTypes == nil {
		r.ExcludedResultTypes = def.ExcludedResultTypes
	}
	if r.ExcludedIPs == nil {
		r.ExcludedIPs = def.ExcludedIPs
	}
	if r.LogonTypes == nil {
		r.LogonTypes = def.LogonTypes
	}
	c := &Classifier{}
	for p, ks := range parts {
		for _, k := range ks {
			if slices.Contains(r.Kinds, k) {
				c.parts |= 1 << p
			}
		}
	}
	for _, rt := range r.ExcludedResultTypes {
		c.excludedResults = append(c.excludedResults, canonicalCodeString(rt))
	}
	for _, p := range r.ExcludedIPs {
		if p, ok := normalisePrefix(p); ok {
			c.excludedIPs = append(c.excludedIPs, p)
		}
	}
	for _, lt := range r.LogonTypes {
		c.logonTypes = append(c.logonTypes, int64(lt))
		c.logonTypeNames = append(c.logonTypeNames, strconv.Itoa(lt))
	}
	return c
}

// runs reports whether part p runs. (p&63 is p: the mask spares the compiler's code for a shift
// past 63 on the paths every sign-in and logon takes.)
func (c *Classifier) runs(p part) bool { return c.parts>>(p&63)&1 != 0 }

// input is where a record's fields may sit: its attributes, and its body when that is a map.
type input struct {
	attrs   pcommon.Map
	body    pcommon.Map
	hasBody bool
	// stamped records carry a LogRecord Timestamp, which the caller prefers: their schema time
	// fields are not parsed.
	stamped bool
}

// time reads a schema time field unless the record is stamped.
func (in *input) time(f field) int64 {
	if in.stamped {
		return 0
	}
	return f.time()
}

// each calls take for every attribute, then for every key of a map body.
func (in *input) each(take func(k string, v pcommon.Value)) {
	for k, v := range in.attrs.All() {
		take(k, v)
	}
	if in.hasBody {
		for k, v := range in.body.All() {
			take(k, v)
		}
	}
}

// discriminators are the few keys that tell the shapes apart, found in one pass over a record.
type discriminators struct {
	typ           field // Sentinel Type
	category      field // Azure diagnostic-settings category (also the semantic-conventions body)
	azureCategory field // azure_event_hub "azure" format and azure_encoding
	fileName      field // log.file.name (filelog)
	facility      field // syslog receiver facility, to drop other facilities before reading more
	eventID       field // EventID or event_id, to drop other events before reading more
	appname       bool  // syslog receiver ...
	message       bool  // ... with message
	journal       bool  // journald MESSAGE
	eventLog      bool  // windowseventlog event_id ...
	channel       bool  // ... with channel
	records       field // Azure diagnostic settings' wrapper of records
	trailRecords  field // a CloudTrail log file's Records
	eventSource   bool  // a CloudTrail event
	eventName     field // its name (EventName in Sentinel), to drop other events before reading more
}

// discriminatorLengths has bit n set when some discriminator key is n bytes long.
const discriminatorLengths = 1<<len("Type") | 1<<len("appname") | 1<<len("category") |
	1<<len("log.file.name") | 1<<len("azure.category") | 1<<len("eventSource") | 1<<len("eventName")

// discriminatorFirsts has bit c-'A' set when some discriminator key starts with byte c.
const discriminatorFirsts = 1<<('E'-'A') | 1<<('M'-'A') | 1<<('R'-'A') | 1<<('T'-'A') | 1<<('a'-'A') |
	1<<('c'-'A') | 1<<('e'-'A') | 1<<('f'-'A') | 1<<('l'-'A') | 1<<('m'-'A') | 1<<('r'-'A')

// maybeDiscriminator is the inlined first test of every key: its length and its first byte (an
// application's "http.method" is as long as "eventSource").
func maybeDiscriminator(k string) bool {
	return len(k) < 64 && discriminatorLengths&(uint64(1)<<len(k)) != 0 &&
		k[0]-'A' < 64 && discriminatorFirsts&(uint64(1)<<(k[0]-'A')) != 0
}

// note records k when it is a discriminator. It switches on the length first: most keys of an
// unrelated record are then dismissed without a single string comparison.
func (d *discriminators) note(k string, v pcommon.Value) {
	switch len(k) {
	case 4:
		if k == "Type" {
			d.typ.set(v)
		}
	case 7:
		switch k {
		case "appname":
			d.appname = true
		case "message":
			d.message = true
		case "MESSAGE":
			d.journal = true
		case "channel":
			d.channel = true
		case "EventID":
			d.eventID.set(v)
		case "records":
			d.records.set(v)
		case "Records":
			d.trailRecords.set(v)
		}
	case 8:
		switch k {
		case "category":
			d.category.set(v)
		case "event_id":
			d.eventID.set(v)
			d.eventLog = true
		case "facility":
			d.facility.set(v)
		}
	case 9:
		if k == "eventName" || k == "EventName" {
			d.eventName.set(v)
		}
	case 11:
		if k[0] == 'e' && k == "eventSource" {
			d.eventSource = true
		}
	case 13:
		if k == "log.file.name" {
			d.fileName.set(v)
		}
	case 14:
		if k == "azure.category" {
			d.azureCategory.set(v)
		}
	}
}

// Classify fills ev (reset first) from one record. It never panics on any input and never modifies
// the record. The strings in ev alias the record's values.
func (c *Classifier) Classify(rec plog.LogRecord, ev *Observation) {
	// Only a record that matches a shape gets the whole Event cleared (clearing ~25 string fields
	// per record is a tenth of the hot path); an unrelated one only gets its Kind set.
	ev.Kind = Unrelated
	in := input{attrs: rec.Attributes(), stamped: rec.Timestamp() != 0}
	var d discriminators
	for k, v := range in.attrs.All() {
		if maybeDiscriminator(k) {
			d.note(k, v)
		}
	}
	body := rec.Body()
	bodyType := body.Type()
	if bodyType == pcommon.ValueTypeMap {
		in.body, in.hasBody = body.Map(), true
		for k, v := range in.body.All() {
			if maybeDiscriminator(k) {
				d.note(k, v)
			}
		}
	}

	if d.typ.ok() {
		if typ, ok := d.typ.str(); ok && c.sentinel(&in, typ, &d, reset(ev)) {
			return
		}
	}
	if d.azureCategory.ok() || d.category.ok() {
		if t, ok := signInCategory(d.azureCategory, d.category); ok {
			c.signIn(&in, t, reset(ev))
			return
		}
	}
	switch {
	case d.records.ok():
		if mapWrapper(d.records, "category") {
			ev.Kind = Wrapper
		}
	case d.eventSource:
		if c.runs(consoleLogins) && consoleLoginName(d.eventName) {
			c.cloudTrail(&in, reset(ev))
		}
	case d.trailRecords.ok():
		if c.runs(consoleLogins) && mapWrapper(d.trailRecords, "eventName") {
			ev.Kind = Wrapper
		}
	case d.eventLog && d.channel:
		if c.mayBeLogon(d.eventID) {
			c.windows(&in, shapeEventLog, reset(ev))
		}
	case d.appname && d.message:
		if n, ok := d.facility.integer(); !ok || facilityName(n) != "" {
			c.syslogReceiver(&in, reset(ev))
		}
	case d.journal:
		c.journald(&in, reset(ev))
	case bodyType == pcommon.ValueTypeStr:
		if s := body.Str(); s != "" && firstByteMayMatter[s[0]] {
			c.stringBody(s, d.fileName, reset(ev))
		}
	case bodyType == pcommon.ValueTypeBytes:
		// JSON as the Kafka receiver's raw encoding delivers it; read in place, never copied.
		if s := bytesText(body.Bytes()); s != "" && isJSONStart(s[0]) {
			c.jsonBody(trimLeadingSpace(s), reset(ev))
		}
	}
}

// reset clears ev for a record that may match a shape.
func reset(ev *Observation) *Observation {
	*ev = Observation{}
	return ev
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

// sentinel dispatches on a Log Analytics Type; false when the table is not one of the rule's.
func (c *Classifier) sentinel(in *input, typ string, d *discriminators, ev *Observation) bool {
	switch {
	case strings.EqualFold(typ, "SigninLogs"):
		c.signIn(in, SigninLogs, ev)
	case strings.EqualFold(typ, "AADNonInteractiveUserSignInLogs"):
		c.signIn(in, AADNonInteractiveUserSignInLogs, ev)
	case strings.EqualFold(typ, "Syslog"):
		c.sentinelSyslog(in, ev)
	case strings.EqualFold(typ, "SecurityEvent"):
		if c.mayBeLogon(d.eventID) {
			c.windows(in, shapeSecurityEvent, ev)
		}
	case strings.EqualFold(typ, "WindowsEvent"):
		if c.mayBeLogon(d.eventID) {
			c.windows(in, shapeWindowsEvent, ev)
		}
	case strings.EqualFold(typ, "AWSCloudTrail"):
		if c.runs(consoleLogins) && consoleLoginName(d.eventName) {
			c.cloudTrail(in, ev)
		}
	default:
		return false
	}
	return true
}

// firstByteMayMatter marks the bytes a string body the rule can use starts with: JSON (perhaps after
// white space), a syslog PRI, or the digit or month that starts a syslog timestamp.
var firstByteMayMatter = [256]bool{
	'{': true, ' ': true, '\t': true, '\r': true, '\n': true, '<': true,
	'0': true, '1': true, '2': true, '3': true, '4': true, '5': true, '6': true, '7': true, '8': true, '9': true,
	'J': true, 'F': true, 'M': true, 'A': true, 'S': true, 'O': true, 'N': true, 'D': true,
}

// stringBody looks at a string body: a diagnostic-settings JSON sign-in or a raw syslog line.
// Cheap first-byte checks keep every other string body (most application logs) near free.
func (c *Classifier) stringBody(s string, fileName field, ev *Observation) {
	if s == "" {
		return
	}
	switch b := s[0]; {
	case isJSONStart(b):
		c.jsonBody(trimLeadingSpace(s), ev)
	case b == '<':
		c.rawSyslog(s, ev)
	case isDigit(b) || isMonthInitial(b):
		// No PRI header, so no facility: only a file known to hold auth messages makes it auth.
		if name, ok := fileName.str(); ok && authLogFile(name) {
			c.rawSyslog(s, ev)
		}
	}
}

// isJSONStart reports whether a body starting with b may be a JSON object.
func isJSONStart(b byte) bool {
	return b == '{' || b == ' ' || b == '\t' || b == '\r' || b == '\n'
}

// jsonBody looks at a JSON body (white space trimmed): one diagnostic-settings sign-in, or a wrapper
// of records with a sign-in in it.
func (c *Classifier) jsonBody(s string, ev *Observation) {
	if !strings.HasPrefix(s, "{") {
		return
	}
	switch c.jsonBodyKind(s) {
	case diagnosticWrapper, cloudTrailFile:
		ev.Kind = Wrapper
	case jsonSignIn:
		c.decodeJSONSignIn(s, ev)
	case jsonCloudTrail:
		c.decodeJSONCloudTrail(s, ev)
	}
}

// trimLeadingSpace drops leading ASCII white space (strings.TrimLeft builds its cut set per call).
func trimLeadingSpace(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n') {
		s = s[1:]
	}
	return s
}
