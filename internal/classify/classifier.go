package classify

import (
	"net/netip"
	"strconv"
	"strings"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// Rules are the rule's tunables that decide what counts. A nil slice means the rule's default; an
// empty non-nil slice means none.
type Rules struct {
	// ExcludedResultTypes are sign-in ResultTypes that are not failures (default "0", "50125",
	// "50140"): such sign-ins are Kind SignIn.
	ExcludedResultTypes []string
	// ExcludedIPs are addresses never counted (default 127.0.0.1/32 and ::1/128): sign-ins from them
	// are Kind SignIn, logons from them Unrelated.
	ExcludedIPs []netip.Prefix
	// LogonTypes are the Windows logon types that count (default 10, 7, 3).
	LogonTypes []int
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
	logonTypeNames  []string // canonical decimal form of logonTypes, aliased into Event.LogonType
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

// input is where a record's fields may sit: its attributes, and its body when that is a map.
type input struct {
	attrs   pcommon.Map
	body    pcommon.Map
	hasBody bool
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
	appname       bool  // syslog receiver ...
	message       bool  // ... with message
	journal       bool  // journald MESSAGE
	eventID       bool  // windowseventlog event_id ...
	channel       bool  // ... with channel
}

func (d *discriminators) note(k string, v pcommon.Value) {
	switch k {
	case "Type":
		d.typ.set(v)
	case "category":
		d.category.set(v)
	case "azure.category":
		d.azureCategory.set(v)
	case "log.file.name":
		d.fileName.set(v)
	case "appname":
		d.appname = true
	case "message":
		d.message = true
	case "MESSAGE":
		d.journal = true
	case "event_id":
		d.eventID = true
	case "channel":
		d.channel = true
	}
}

// Classify fills ev (reset first) from one record. It never panics on any input and never modifies
// the record. The strings in ev alias the record's values.
func (c *Classifier) Classify(rec plog.LogRecord, ev *Event) {
	*ev = Event{}
	in := input{attrs: rec.Attributes()}
	var d discriminators
	for k, v := range in.attrs.All() {
		d.note(k, v)
	}
	body := rec.Body()
	bodyType := body.Type()
	if bodyType == pcommon.ValueTypeMap {
		in.body, in.hasBody = body.Map(), true
		for k, v := range in.body.All() {
			d.note(k, v)
		}
	}

	if typ, ok := d.typ.str(); ok && c.sentinel(&in, typ, ev) {
		return
	}
	if cat, ok := d.azureCategory.str(); ok {
		if t, ok := signInTable(cat); ok {
			c.signIn(&in, t, ev)
			return
		}
	}
	if cat, ok := d.category.str(); ok {
		if t, ok := signInTable(cat); ok {
			c.signIn(&in, t, ev)
			return
		}
	}
	switch {
	case d.eventID && d.channel:
		c.windows(&in, SecurityEvent, ev)
	case d.appname && d.message:
		c.syslogReceiver(&in, ev)
	case d.journal:
		c.journald(&in, ev)
	case bodyType == pcommon.ValueTypeStr:
		c.stringBody(body.Str(), d.fileName, ev)
	}
}

// sentinel dispatches on a Log Analytics Type; false when the table is not one of the rule's.
func (c *Classifier) sentinel(in *input, typ string, ev *Event) bool {
	switch {
	case strings.EqualFold(typ, "SigninLogs"):
		c.signIn(in, SigninLogs, ev)
	case strings.EqualFold(typ, "AADNonInteractiveUserSignInLogs"):
		c.signIn(in, AADNonInteractiveUserSignInLogs, ev)
	case strings.EqualFold(typ, "Syslog"):
		c.sentinelSyslog(in, ev)
	case strings.EqualFold(typ, "SecurityEvent"):
		c.windows(in, SecurityEvent, ev)
	case strings.EqualFold(typ, "WindowsEvent"):
		c.windows(in, WindowsEvent, ev)
	default:
		return false
	}
	return true
}

// stringBody looks at a string body: a diagnostic-settings JSON sign-in or a raw syslog line.
// Cheap first-byte checks keep every other string body (most application logs) near free.
func (c *Classifier) stringBody(s string, fileName field, ev *Event) {
	if s == "" {
		return
	}
	switch b := s[0]; {
	case b == '{' || b == ' ' || b == '\t' || b == '\r' || b == '\n':
		if t := strings.TrimLeft(s, " \t\r\n"); strings.HasPrefix(t, "{") {
			c.jsonSignIn(t, ev)
		}
	case b == '<':
		c.rawSyslog(s, ev)
	case isDigit(b) || isMonthInitial(b):
		// No PRI header, so no facility: only a file known to hold auth messages makes it auth.
		if name, ok := fileName.str(); ok && authLogFile(name) {
			c.rawSyslog(s, ev)
		}
	}
}
