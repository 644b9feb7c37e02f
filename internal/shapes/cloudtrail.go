package shapes

import (
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// CloudTrailShape is how an AWS CloudTrail event reaches the processor.
type CloudTrailShape uint8

const (
	// SentinelCloudTrail is a row of Sentinel's AWSCloudTrail table: attributes, ResponseElements
	// and AdditionalEventData as JSON text.
	SentinelCloudTrail CloudTrailShape = iota
	// CloudTrailEvent is an event as CloudTrail writes it: a map body after a JSON parse; its Line
	// is the JSON text (an event forwarded one by one, over OTLP or a queue).
	CloudTrailEvent
)

// AWSAccount is the AWS account of every CloudTrail event.
const AWSAccount = "111122223333"

// CloudTrailTime is when a zero console login happens.
var CloudTrailTime = time.Date(2024, time.November, 27, 2, 40, 12, 0, time.UTC)

// ConsoleLogin is one AWS CloudTrail event, by default a console login. The zero value is the IAM
// user alice signing in to the AWS console from Addr, successfully and without MFA, at
// CloudTrailTime, as a Sentinel row.
type ConsoleLogin struct {
	Shape CloudTrailShape
	// Place overrides where Fill writes the fields.
	Place Place
	// Result is responseElements.ConsoleLogin (zero: "Success"); NoResult leaves it out.
	Result   string
	NoResult bool
	// Addr is sourceIPAddress (zero: Addr).
	Addr string
	// EventName and EventSource (zero: ConsoleLogin from signin.amazonaws.com) make it another
	// event, one that is not a console login.
	EventName, EventSource string
	// IdentityType is userIdentity.type (zero: IAMUser); Root has no user name.
	IdentityType string
	// UserName is userIdentity.userName (zero: User, none for Root).
	UserName string
	// Region is awsRegion (zero: us-east-1).
	Region string
	// MFA is additionalEventData.MFAUsed (zero: "No").
	MFA string
	// Time is eventTime (zero: CloudTrailTime).
	Time time.Time
}

func (c ConsoleLogin) result() string      { return or(c.Result, "Success") }
func (c ConsoleLogin) addr() string        { return or(c.Addr, Addr) }
func (c ConsoleLogin) eventName() string   { return or(c.EventName, "ConsoleLogin") }
func (c ConsoleLogin) eventSource() string { return or(c.EventSource, "signin.amazonaws.com") }
func (c ConsoleLogin) identityType() string {
	return or(c.IdentityType, "IAMUser")
}

func (c ConsoleLogin) userName() string {
	if c.UserName == "" && c.identityType() == "Root" {
		return ""
	}
	return or(c.UserName, User)
}
func (c ConsoleLogin) region() string  { return or(c.Region, "us-east-1") }
func (c ConsoleLogin) mfa() string     { return or(c.MFA, "No") }
func (c ConsoleLogin) when() time.Time { return orTime(c.Time, CloudTrailTime) }
func (c ConsoleLogin) userAgent() string {
	return "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0"
}

// isConsoleLogin reports whether the event is a console login (its response is then the login's).
func (c ConsoleLogin) isConsoleLogin() bool { return c.eventName() == "ConsoleLogin" }

// responseElements is the event's response: the login's result.
func (c ConsoleLogin) responseElements() map[string]any {
	if !c.isConsoleLogin() || c.NoResult {
		return nil
	}
	return map[string]any{"ConsoleLogin": c.result()}
}

func (c ConsoleLogin) additionalEventData() map[string]any {
	return map[string]any{
		"LoginTo":       "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
		"MobileVersion": "No",
		"MFAUsed":       c.mfa(),
	}
}

// Map returns the event's fields in its shape.
func (c ConsoleLogin) Map() map[string]any {
	if c.Shape == CloudTrailEvent {
		return c.raw()
	}
	m := map[string]any{
		"Type":                  "AWSCloudTrail",
		"TimeGenerated":         c.when().Format(time.RFC3339Nano),
		"EventVersion":          "1.08",
		"EventName":             c.eventName(),
		"EventSource":           c.eventSource(),
		"EventTypeName":         "AwsConsoleSignIn",
		"SourceIpAddress":       c.addr(),
		"UserIdentityType":      c.identityType(),
		"UserIdentityAccountId": AWSAccount,
		"AWSRegion":             c.region(),
		"UserAgent":             c.userAgent(),
		"RecipientAccountId":    AWSAccount,
		"AdditionalEventData":   jsonText(c.additionalEventData()),
		"ManagementEvent":       true,
	}
	if u := c.userName(); u != "" {
		m["UserIdentityUserName"] = u
	}
	if r := c.responseElements(); r != nil {
		m["ResponseElements"] = jsonText(r)
	}
	if c.isConsoleLogin() && c.result() == "Failure" {
		m["ErrorMessage"] = "Failed authentication"
	}
	return m
}

// raw is the event as CloudTrail writes it.
func (c ConsoleLogin) raw() map[string]any {
	identity := map[string]any{
		"type":        c.identityType(),
		"principalId": "AIDACKCEVSQ6C2EXAMPLE",
		"arn":         "arn:aws:iam::" + AWSAccount + ":user/" + c.userName(),
		"accountId":   AWSAccount,
	}
	if u := c.userName(); u != "" {
		identity["userName"] = u
	}
	m := map[string]any{
		"eventVersion":        "1.08",
		"userIdentity":        identity,
		"eventTime":           c.when().Format(time.RFC3339),
		"eventSource":         c.eventSource(),
		"eventName":           c.eventName(),
		"awsRegion":           c.region(),
		"sourceIPAddress":     c.addr(),
		"userAgent":           c.userAgent(),
		"requestParameters":   nil,
		"additionalEventData": c.additionalEventData(),
		"eventID":             "3c5b0b2e-6f3a-4c9e-9d7e-1a2b3c4d5e6f",
		"readOnly":            false,
		"eventType":           "AwsConsoleSignIn",
		"managementEvent":     true,
		"recipientAccountId":  AWSAccount,
		"eventCategory":       "Management",
	}
	if r := c.responseElements(); r != nil {
		m["responseElements"] = r
	} else {
		m["responseElements"] = nil
	}
	if c.isConsoleLogin() && c.result() == "Failure" {
		m["errorMessage"] = "Failed authentication"
	}
	return m
}

// natural is where the shape's receiver puts the fields.
func (c ConsoleLogin) natural() Place {
	if c.Shape == CloudTrailEvent {
		return InMapBody
	}
	return InAttributes
}

// Fill writes the event into lr (see Place).
func (c ConsoleLogin) Fill(lr plog.LogRecord) { fill(lr, c.Map(), c.Place, c.natural()) }

// Line is the event as one JSON text.
func (c ConsoleLogin) Line() string { return jsonText(c.Map()) }

// CloudTrailFile is a CloudTrail log file as S3 holds it (gunzipped): {"Records": [ … ]} on one
// line, as the filelog receiver reads it. The zero value holds one zero ConsoleLogin.
type CloudTrailFile struct {
	// Events are written as CloudTrail writes them, whatever their Shape; nil: one zero ConsoleLogin.
	Events []ConsoleLogin
	// Extra are further elements, as given (the values a hostile file holds).
	Extra []any
	Body  WrapperBody
}

// Map returns the file's content.
func (f CloudTrailFile) Map() map[string]any {
	events := f.Events
	if events == nil {
		events = []ConsoleLogin{{}}
	}
	var records []any
	for _, e := range events {
		records = append(records, e.raw())
	}
	records = append(records, f.Extra...)
	return map[string]any{"Records": records}
}

// Line is the file's one line of JSON.
func (f CloudTrailFile) Line() string { return jsonText(f.Map()) }

// Fill writes the file into lr as the filelog receiver does: the line as a string body (or bytes,
// with encoding nop; or a map after a JSON parse), with the file's name.
func (f CloudTrailFile) Fill(lr plog.LogRecord) {
	switch f.Body {
	case StringBody:
		lr.Body().SetStr(f.Line())
	case MapBody:
		mustFromRaw(lr.Body().SetEmptyMap().FromRaw(f.Map()))
	default:
		lr.Body().SetEmptyBytes().FromRaw([]byte(f.Line()))
	}
	lr.Attributes().PutStr("log.file.name", AWSAccount+"_CloudTrail_us-east-1_20241127T0240Z_Ab12Cd34Ef56Gh78.json.gz")
}
