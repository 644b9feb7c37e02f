package shapes

import (
	"strconv"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The Entra ID sign-in tables, as Sentinel names them.
const (
	SigninLogs                      = "SigninLogs"
	AADNonInteractiveUserSignInLogs = "AADNonInteractiveUserSignInLogs"
)

// SignInShape is how an Entra ID sign-in reaches the processor.
type SignInShape uint8

const (
	// SentinelSignIn is a row of Log Analytics' SigninLogs or AADNonInteractiveUserSignInLogs (an
	// export replayed, a script): attributes.
	SentinelSignIn SignInShape = iota
	// DiagnosticSignIn is a record as Azure diagnostic settings export it to storage or an Event Hub
	// (category SignInLogs / NonInteractiveUserSignInLogs): a map body after a JSON parse; its Line
	// is the JSON text.
	DiagnosticSignIn
	// EventHubAzureSignIn is the azure_event_hub receiver's "azure" format (the Azure resource-logs
	// translator): azure.* attributes, the properties under azure.properties, the time as the
	// record's Timestamp.
	EventHubAzureSignIn
	// EventHubSemconvSignIn is the azure_event_hub receiver with apply_semantic_conventions: a map
	// body, the time as the record's Timestamp.
	EventHubSemconvSignIn
	// AzureEncodingSignIn is the azure_encoding extension's record for a category it has no mapping
	// for: common fields mapped, properties flattened into the attributes, the time as the record's
	// Timestamp.
	AzureEncodingSignIn
)

// SignIn is one Entra ID sign-in. The zero value is alice@contoso.com failing with 50126 from Addr
// at SignInTime, in SigninLogs, as a Sentinel row.
type SignIn struct {
	Shape SignInShape
	// Place overrides where Fill writes the fields.
	Place Place
	// Table is SigninLogs (zero) or AADNonInteractiveUserSignInLogs.
	Table string
	// Addr is the source address as written (zero: Addr); it may be anything, a test's bad value too.
	Addr string
	// Result is the ResultType (zero: "50126"); status.errorCode carries it as a number when it is one.
	Result string
	// NumericResult writes the ResultType as a number, as typed exports and JSON parsers do.
	NumericResult bool
	// User is the user principal name (zero: UserPrincipalName).
	User string
	// The columns the second rule's alert projects; each is written only when set.
	App, UserDisplayName, ClientApp, Location string
	// Time is when the sign-in happened (zero: SignInTime).
	Time time.Time
}

var resultDescriptions = map[string]string{
	"50053": "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
	"50055": "The password is expired.",
	"50074": "Strong Authentication is required.",
	"50125": "Sign-in was interrupted due to a password reset or password registration entry.",
	"50126": "Invalid username or password or Invalid on-premise username or password.",
	"50140": "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.",
}

func (s SignIn) table() string  { return or(s.Table, SigninLogs) }
func (s SignIn) addr() string   { return or(s.Addr, Addr) }
func (s SignIn) result() string { return or(s.Result, "50126") }
func (s SignIn) user() string   { return or(s.User, UserPrincipalName) }
func (s SignIn) when() time.Time {
	return orTime(s.Time, SignInTime).UTC()
}

// category is the diagnostic-settings category of the table.
func (s SignIn) category() string {
	if s.table() == AADNonInteractiveUserSignInLogs {
		return "NonInteractiveUserSignInLogs"
	}
	if s.table() == SigninLogs {
		return "SignInLogs"
	}
	return s.table()
}

// resultValue is the ResultType as written: text, or a number with NumericResult.
func (s SignIn) resultValue() any {
	if s.NumericResult {
		if n, err := strconv.ParseInt(s.result(), 10, 64); err == nil {
			return n
		}
	}
	return s.result()
}

// status is the sign-in's status object: errorCode (a number) and failureReason.
func (s SignIn) status(reason bool) map[string]any {
	st := map[string]any{}
	if n, err := strconv.ParseInt(s.result(), 10, 64); err == nil {
		st["errorCode"] = n
	} else {
		st["errorCode"] = s.result()
	}
	if d, ok := resultDescriptions[s.result()]; ok && reason {
		st["failureReason"] = d
	}
	return st
}

// columns puts the projected columns set on s into m under the names of the diagnostic schema.
func (s SignIn) columns(m map[string]any) map[string]any {
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("appDisplayName", s.App)
	put("userDisplayName", s.UserDisplayName)
	put("clientAppUsed", s.ClientApp)
	if s.Location != "" {
		m["location"] = map[string]any{"countryOrRegion": s.Location}
	}
	return m
}

// Map returns the sign-in's fields in its shape.
func (s SignIn) Map() map[string]any {
	switch s.Shape {
	case DiagnosticSignIn:
		return s.diagnostic()
	case EventHubAzureSignIn:
		return map[string]any{
			"azure.category":          s.category(),
			"azure.operation.name":    "Sign-in activity",
			"azure.operation.version": "1.0",
			"azure.result.type":       s.resultValue(),
			"azure.result.signature":  "None",
			"azure.tenant.id":         TenantID,
			"cloud.provider":          "azure",
			"cloud.region":            "US",
			"net.sock.peer.addr":      s.addr(),
			"azure.properties": s.columns(map[string]any{
				"userPrincipalName": s.user(),
				"ipAddress":         s.addr(),
				"status":            s.status(false),
			}),
		}
	case EventHubSemconvSignIn:
		return map[string]any{
			"category":             s.category(),
			"operation.name":       "Sign-in activity",
			"result.type":          s.resultValue(),
			"tenant.id":            TenantID,
			"cloud.region":         "US",
			"network.peer.address": s.addr(),
			"properties": s.columns(map[string]any{
				"userPrincipalName": s.user(),
				"ipAddress":         s.addr(),
				"status":            s.status(false),
			}),
		}
	case AzureEncodingSignIn:
		return s.columns(map[string]any{
			"azure.category":          s.category(),
			"azure.operation.name":    "Sign-in activity",
			"azure.operation.version": "1.0",
			"azure.result.type":       s.resultValue(),
			"azure.correlation_id":    "a75a10bd-c126-486b-9742-c03110d36262",
			"network.peer.address":    s.addr(),
			"ipAddress":               s.addr(),
			"userPrincipalName":       s.user(),
			"status":                  s.status(true),
		})
	default:
		return s.sentinel()
	}
}

func (s SignIn) sentinel() map[string]any {
	m := map[string]any{
		"TenantId":          TenantID,
		"SourceSystem":      "Azure AD",
		"OperationName":     "Sign-in activity",
		"Category":          s.category(),
		"TimeGenerated":     s.when().Format(time.RFC3339Nano),
		"ResultType":        s.resultValue(),
		"IPAddress":         s.addr(),
		"UserPrincipalName": s.user(),
		"Type":              s.table(),
	}
	if d, ok := resultDescriptions[s.result()]; ok {
		m["ResultDescription"] = d
	}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("AppDisplayName", s.App)
	put("UserDisplayName", s.UserDisplayName)
	put("ClientAppUsed", s.ClientApp)
	if s.Location != "" {
		m["Location"] = s.Location
		m["LocationDetails"] = map[string]any{"countryOrRegion": s.Location}
	}
	return m
}

func (s SignIn) diagnostic() map[string]any {
	m := map[string]any{
		"time":             s.when().Format("2006-01-02T15:04:05.0000000Z"),
		"resourceId":       "/tenants/" + TenantID + "/providers/Microsoft.aadiam",
		"operationName":    "Sign-in activity",
		"operationVersion": "1.0",
		"category":         s.category(),
		"tenantId":         TenantID,
		"resultType":       s.resultValue(),
		"resultSignature":  "None",
		"durationMs":       0,
		"callerIpAddress":  s.addr(),
		"correlationId":    "a75a10bd-c126-486b-9742-c03110d36262",
		"Level":            4,
		"properties": s.columns(map[string]any{
			"id":                "0231f922-93fa-4005-bb11-b344eca03c01",
			"createdDateTime":   s.when().Format("2006-01-02T15:04:05.0000000+00:00"),
			"userPrincipalName": s.user(),
			"ipAddress":         s.addr(),
			"status":            s.status(true),
		}),
	}
	if d, ok := resultDescriptions[s.result()]; ok {
		m["resultDescription"] = d
	}
	if s.UserDisplayName != "" {
		m["identity"] = s.UserDisplayName
	}
	if s.Location != "" {
		m["location"] = s.Location
	}
	return m
}

// natural is where the shape's receiver puts the fields.
func (s SignIn) natural() Place {
	switch s.Shape {
	case DiagnosticSignIn, EventHubSemconvSignIn:
		return InMapBody
	default:
		return InAttributes
	}
}

// Fill writes the sign-in into lr (see Place). The Azure receiver and extension shapes carry their
// time as the record's Timestamp, and Fill sets it; the others carry it in a field of their own.
func (s SignIn) Fill(lr plog.LogRecord) {
	fill(lr, s.Map(), s.Place, s.natural())
	switch s.Shape {
	case EventHubAzureSignIn, EventHubSemconvSignIn, AzureEncodingSignIn:
		lr.SetTimestamp(pcommon.NewTimestampFromTime(s.when()))
	}
}

// Line is the sign-in as one JSON text: a line of an export file, a message of an Event Hub.
func (s SignIn) Line() string { return jsonText(s.Map()) }
