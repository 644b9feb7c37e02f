package shapes

import (
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// WrapperBody is how a wrapper of records reaches the processor.
type WrapperBody uint8

const (
	// BytesBody is the wrapper's JSON as a bytes body: the Kafka receiver's raw encoding (the zero
	// value).
	BytesBody WrapperBody = iota
	// StringBody is the JSON as a string body: the Kafka receiver's text encoding, a file line.
	StringBody
	// MapBody is the wrapper after a JSON parse upstream.
	MapBody
)

// EventHubsMessage is one message Azure diagnostic settings stream to an Event Hub:
// {"records": [ … ]}. The zero value holds one zero SignIn.
type EventHubsMessage struct {
	// SignIns are written as diagnostic-settings records, whatever their Shape; nil: one zero SignIn.
	SignIns []SignIn
	// Extra are further elements, as given, after the sign-ins: records of other categories, or the
	// values a hostile sender puts there.
	Extra []any
	Body  WrapperBody
	// Received is the message's time, the record's Timestamp (zero: none), which is not the sign-ins'.
	Received time.Time
}

// Map returns the wrapper.
func (m EventHubsMessage) Map() map[string]any {
	signIns := m.SignIns
	if signIns == nil {
		signIns = []SignIn{{}}
	}
	var records []any
	for _, s := range signIns {
		s.Shape = DiagnosticSignIn
		records = append(records, s.Map())
	}
	records = append(records, m.Extra...)
	return map[string]any{"records": records}
}

// Line is the wrapper as the JSON text of the message.
func (m EventHubsMessage) Line() string { return jsonText(m.Map()) }

// Fill writes the message into lr as the Kafka receiver hands it over, with the topic an Event Hub
// of diagnostic settings has.
func (m EventHubsMessage) Fill(lr plog.LogRecord) {
	switch m.Body {
	case StringBody:
		lr.Body().SetStr(m.Line())
	case MapBody:
		mustFromRaw(lr.Body().SetEmptyMap().FromRaw(m.Map()))
	default:
		lr.Body().SetEmptyBytes().FromRaw([]byte(m.Line()))
	}
	lr.Attributes().PutStr("kafka.topic", "insights-logs-signinlogs")
	if !m.Received.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(m.Received))
	}
}
