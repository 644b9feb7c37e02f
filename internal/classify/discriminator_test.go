package classify

import "testing"

// TestMaybeDiscriminator holds the inlined first test of a key against the keys note recognises:
// every one passes it (a key added to note must be added to discriminatorLengths and
// discriminatorFirsts), and common keys of application logs do not.
func TestMaybeDiscriminator(t *testing.T) {
	for _, k := range []string{"Type", "appname", "message", "MESSAGE", "channel", "EventID", "records",
		"Records", "category", "event_id", "facility", "eventName", "EventName", "eventSource",
		"log.file.name", "azure.category"} {
		if !maybeDiscriminator(k) {
			t.Errorf("maybeDiscriminator(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"", "http.method", "http.status_code", "url.path", "service.name", "trace_id", "Xtra", "\xff\xff\xff\xff"} {
		if maybeDiscriminator(k) {
			t.Errorf("maybeDiscriminator(%q) = true, want false", k)
		}
	}
}
