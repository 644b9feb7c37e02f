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
	// Detail is what a diagnostic-settings export carries beyond what the rules read.
	Detail SignInDetail
}

// SignInDetail is the rest of a sign-in as diagnostic settings export it: ids, the application's
// and the user's object ids, the client and the place. Empty fields stay empty (the ids and the
// tenant take fixed values).
type SignInDetail struct {
	TenantID                             string
	ID, CorrelationID, OriginalRequestID string
	UniqueTokenIdentifier                string
	UserID, AppID                        string
	ResourceDisplayName, ResourceID      string
	UserAgent, OperatingSystem, Browser  string
	City, State                          string
	Latitude, Longitude                  float64
	ProcessingMillis                     int
}

var resultDescriptions = map[string]string{
	"50053": "Account is locked because user tried to sign in too many times with an incorrect user ID or password.",
	"50055": "The password is expired.",
	"50074": "Strong Authentication is required.",
	"50125": "Sign-in was interrupted due to a password reset or password registration entry.",
	"50126": "Error validating credentials due to invalid username or password.",
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

// diagnostic is the record as a map: the DiagnosticRecord's JSON, decoded as a JSON parser upstream
// would (whole numbers as ints), with a numeric resultType for NumericResult.
func (s SignIn) diagnostic() map[string]any {
	m := decodeJSON(jsonValue(s.DiagnosticRecord()))
	m["resultType"] = s.resultValue()
	return m
}

// DiagnosticRecord is the sign-in as Azure diagnostic settings export it (categories SignInLogs and
// NonInteractiveUserSignInLogs), its fields in the order Azure writes them.
func (s SignIn) DiagnosticRecord() DiagnosticRecord {
	interactive := s.table() != AADNonInteractiveUserSignInLogs
	success := s.result() == "0"
	eventType := "interactiveUser"
	if !interactive {
		eventType = "nonInteractiveUser"
	}
	status := SignInStatus{FailureReason: resultDescriptions[s.result()]}
	if n, err := strconv.Atoi(s.result()); err == nil {
		status.ErrorCode = n
	}
	requirement, caStatus := "singleFactorAuthentication", "notApplied"
	if success {
		status.FailureReason = "Other."
		if interactive {
			status.AdditionalDetails = "MFA requirement satisfied by claim in the token"
			requirement, caStatus = "multiFactorAuthentication", "success"
		}
	}
	d := s.Detail
	tenant := or(d.TenantID, TenantID)
	correlation := or(d.CorrelationID, "a75a10bd-c126-486b-9742-c03110d36262")
	p := DiagnosticProperties{
		ID:                               or(d.ID, "0231f922-93fa-4005-bb11-b344eca03c01"),
		CreatedDateTime:                  s.when().Format("2006-01-02T15:04:05.0000000+00:00"),
		UserDisplayName:                  s.UserDisplayName,
		UserPrincipalName:                s.user(),
		UserID:                           d.UserID,
		AppID:                            d.AppID,
		AppDisplayName:                   s.App,
		IPAddress:                        s.addr(),
		Status:                           status,
		ClientAppUsed:                    s.ClientApp,
		UserAgent:                        d.UserAgent,
		DeviceDetail:                     DeviceDetail{OperatingSystem: d.OperatingSystem, Browser: d.Browser},
		CorrelationID:                    correlation,
		ConditionalAccessStatus:          caStatus,
		IsInteractive:                    interactive,
		TokenIssuerType:                  "AzureAD",
		AuthenticationRequirement:        requirement,
		RiskDetail:                       "none",
		RiskLevelAggregated:              "none",
		RiskLevelDuringSignIn:            "none",
		RiskState:                        "none",
		ResourceDisplayName:              d.ResourceDisplayName,
		ResourceID:                       d.ResourceID,
		AuthenticationProtocol:           "none",
		IncomingTokenType:                "none",
		UserType:                         "Member",
		CrossTenantAccessType:            "none",
		SignInEventTypes:                 []string{eventType},
		AuthenticationProcessingDetails:  []KeyValue{{"Legacy TLS (TLS 1.0, 1.1, 3DES)", "False"}, {"Is CAE Token", "False"}},
		NetworkLocationDetails:           []any{},
		ProcessingTimeInMilliseconds:     d.ProcessingMillis,
		HomeTenantID:                     tenant,
		OriginalRequestID:                d.OriginalRequestID,
		UniqueTokenIdentifier:            d.UniqueTokenIdentifier,
		AuthenticationContextClassRefs:   []any{},
		SessionLifetimePolicies:          []any{},
		AppliedConditionalAccessPolicies: []any{},
	}
	p.Location = SignInLocation{City: d.City, State: d.State, CountryOrRegion: s.Location}
	p.Location.GeoCoordinates.Latitude, p.Location.GeoCoordinates.Longitude = d.Latitude, d.Longitude
	return DiagnosticRecord{
		Time:              s.when().Format("2006-01-02T15:04:05.0000000Z"),
		ResourceID:        "/tenants/" + tenant + "/providers/Microsoft.aadiam",
		OperationName:     "Sign-in activity",
		OperationVersion:  "1.0",
		Category:          s.category(),
		TenantID:          tenant,
		ResultType:        s.result(),
		ResultSignature:   "None",
		ResultDescription: resultDescriptions[s.result()],
		CallerIPAddress:   s.addr(),
		CorrelationID:     correlation,
		Identity:          s.UserDisplayName,
		Level:             4,
		Location:          s.Location,
		Properties:        p,
	}
}

// DiagnosticRecord is a sign-in record of Azure diagnostic settings.
type DiagnosticRecord struct {
	Time              string               `json:"time"`
	ResourceID        string               `json:"resourceId"`
	OperationName     string               `json:"operationName"`
	OperationVersion  string               `json:"operationVersion"`
	Category          string               `json:"category"`
	TenantID          string               `json:"tenantId"`
	ResultType        string               `json:"resultType"`
	ResultSignature   string               `json:"resultSignature"`
	ResultDescription string               `json:"resultDescription,omitempty"`
	DurationMs        int                  `json:"durationMs"`
	CallerIPAddress   string               `json:"callerIpAddress"`
	CorrelationID     string               `json:"correlationId"`
	Identity          string               `json:"identity"`
	Level             int                  `json:"Level"`
	Location          string               `json:"location"`
	Properties        DiagnosticProperties `json:"properties"`
}

// DiagnosticProperties are a sign-in record's properties: the sign-in as Microsoft Graph has it.
type DiagnosticProperties struct {
	ID                               string         `json:"id"`
	CreatedDateTime                  string         `json:"createdDateTime"`
	UserDisplayName                  string         `json:"userDisplayName"`
	UserPrincipalName                string         `json:"userPrincipalName"`
	UserID                           string         `json:"userId"`
	AppID                            string         `json:"appId"`
	AppDisplayName                   string         `json:"appDisplayName"`
	IPAddress                        string         `json:"ipAddress"`
	Status                           SignInStatus   `json:"status"`
	ClientAppUsed                    string         `json:"clientAppUsed"`
	UserAgent                        string         `json:"userAgent"`
	DeviceDetail                     DeviceDetail   `json:"deviceDetail"`
	Location                         SignInLocation `json:"location"`
	CorrelationID                    string         `json:"correlationId"`
	ConditionalAccessStatus          string         `json:"conditionalAccessStatus"`
	IsInteractive                    bool           `json:"isInteractive"`
	TokenIssuerType                  string         `json:"tokenIssuerType"`
	AuthenticationRequirement        string         `json:"authenticationRequirement"`
	RiskDetail                       string         `json:"riskDetail"`
	RiskLevelAggregated              string         `json:"riskLevelAggregated"`
	RiskLevelDuringSignIn            string         `json:"riskLevelDuringSignIn"`
	RiskState                        string         `json:"riskState"`
	ResourceDisplayName              string         `json:"resourceDisplayName"`
	ResourceID                       string         `json:"resourceId"`
	AuthenticationProtocol           string         `json:"authenticationProtocol"`
	IncomingTokenType                string         `json:"incomingTokenType"`
	UserType                         string         `json:"userType"`
	CrossTenantAccessType            string         `json:"crossTenantAccessType"`
	SignInEventTypes                 []string       `json:"signInEventTypes"`
	AuthenticationProcessingDetails  []KeyValue     `json:"authenticationProcessingDetails"`
	NetworkLocationDetails           []any          `json:"networkLocationDetails"`
	ProcessingTimeInMilliseconds     int            `json:"processingTimeInMilliseconds"`
	ServicePrincipalID               string         `json:"servicePrincipalId"`
	HomeTenantID                     string         `json:"homeTenantId"`
	OriginalRequestID                string         `json:"originalRequestId"`
	UniqueTokenIdentifier            string         `json:"uniqueTokenIdentifier"`
	AuthenticationContextClassRefs   []any          `json:"authenticationContextClassReferences"`
	SessionLifetimePolicies          []any          `json:"sessionLifetimePolicies"`
	AppliedConditionalAccessPolicies []any          `json:"appliedConditionalAccessPolicies"`
}

// SignInStatus is a sign-in's outcome.
type SignInStatus struct {
	ErrorCode         int    `json:"errorCode"`
	FailureReason     string `json:"failureReason,omitempty"`
	AdditionalDetails string `json:"additionalDetails,omitempty"`
}

// DeviceDetail is the signing-in device.
type DeviceDetail struct {
	DeviceID        string `json:"deviceId"`
	DisplayName     string `json:"displayName"`
	OperatingSystem string `json:"operatingSystem"`
	Browser         string `json:"browser"`
	IsCompliant     bool   `json:"isCompliant"`
	IsManaged       bool   `json:"isManaged"`
	TrustType       string `json:"trustType"`
}

// SignInLocation is where the sign-in came from.
type SignInLocation struct {
	City            string `json:"city"`
	State           string `json:"state"`
	CountryOrRegion string `json:"countryOrRegion"`
	GeoCoordinates  struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
	} `json:"geoCoordinates"`
}

// KeyValue is one entry of a list of named values.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
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
	if s.Place == InJSONBody {
		lr.Body().SetStr(s.Line())
	} else {
		fill(lr, s.Map(), s.Place, s.natural())
	}
	switch s.Shape {
	case EventHubAzureSignIn, EventHubSemconvSignIn, AzureEncodingSignIn:
		lr.SetTimestamp(pcommon.NewTimestampFromTime(s.when()))
	}
}

// Line is the sign-in as one JSON text: a line of an export file, a message of an Event Hub (the
// diagnostic record's fields in Azure's order).
func (s SignIn) Line() string {
	if s.Shape == DiagnosticSignIn && !s.NumericResult {
		return jsonValue(s.DiagnosticRecord())
	}
	return jsonText(s.Map())
}
