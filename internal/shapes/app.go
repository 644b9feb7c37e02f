package shapes

import (
	"strconv"

	"go.opentelemetry.io/collector/pdata/plog"
)

// App is an ordinary application log record, what most records of a pipeline are: a request
// line with HTTP attributes. The zero value is a GET of /api/v1/items answered 200 in 12 ms.
type App struct {
	// Service is service.name (zero: inventory).
	Service string
	// Route is the path requested (zero: /api/v1/items).
	Route string
	// Status is the response's status code (zero: 200).
	Status int
	// Millis is how long the request took (zero: 12).
	Millis int
	// ClientAddr is client.address, written when set.
	ClientAddr string
}

func (a App) status() int {
	if a.Status == 0 {
		return 200
	}
	return a.Status
}

// Map returns the record's attributes.
func (a App) Map() map[string]any {
	m := map[string]any{
		"http.request.method":       "GET",
		"url.path":                  or(a.Route, "/api/v1/items"),
		"http.response.status_code": a.status(),
		"service.name":              or(a.Service, "inventory"),
		"trace.flags":               "01",
	}
	if a.ClientAddr != "" {
		m["client.address"] = a.ClientAddr
	}
	return m
}

// Line is the record's body: the request line.
func (a App) Line() string {
	ms := a.Millis
	if ms == 0 {
		ms = 12
	}
	return "GET " + or(a.Route, "/api/v1/items") + " " + strconv.Itoa(a.status()) + " " + strconv.Itoa(ms) + "ms"
}

// Fill writes the attributes and the body into lr, with severity INFO.
func (a App) Fill(lr plog.LogRecord) {
	mustFromRaw(lr.Attributes().FromRaw(a.Map()))
	lr.Body().SetStr(a.Line())
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("INFO")
}
