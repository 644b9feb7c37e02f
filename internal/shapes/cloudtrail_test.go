package shapes_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// TestCloudTrailShapesClassify: console logins of every CloudTrail shape and place, and a CloudTrail
// file of them, are what the console rules count; other CloudTrail events are not.
func TestCloudTrailShapesClassify(t *testing.T) {
	console := classify.New(classify.Rules{Kinds: []classify.Kind{classify.ConsoleLoginFailure, classify.ConsoleLoginSuccess}})
	when := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, shape := range []shapes.CloudTrailShape{shapes.SentinelCloudTrail, shapes.CloudTrailEvent} {
		for _, place := range []shapes.Place{shapes.ShapePlace, shapes.InAttributes, shapes.InMapBody} {
			for result, kind := range map[string]classify.Kind{"Success": classify.ConsoleLoginSuccess, "Failure": classify.ConsoleLoginFailure} {
				c := shapes.ConsoleLogin{Shape: shape, Place: place, Result: result, Addr: "2001:db8::c", Time: when}
				lr := record(c.Fill)
				ev := classified(console, lr)
				require.Equal(t, kind, ev.Kind, "shape %d place %d %s (reject %q)", shape, place, result, ev.Reject)
				assert.Equal(t, netip.MustParseAddr("2001:db8::c"), ev.Addr)
				assert.Equal(t, when, eventTime(lr, ev))
				assert.Equal(t, classify.Unrelated, classified(allRules, lr).Kind, "without the console rules")
			}
			other := shapes.ConsoleLogin{Shape: shape, Place: place, EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com"}
			assert.Equal(t, classify.Unrelated, classified(console, record(other.Fill)).Kind)
		}
	}
	for _, body := range []shapes.WrapperBody{shapes.BytesBody, shapes.StringBody, shapes.MapBody} {
		f := shapes.CloudTrailFile{Events: []shapes.ConsoleLogin{{Result: "Failure"}, {EventName: "GetCallerIdentity", EventSource: "sts.amazonaws.com"}, {}}, Body: body}
		lr := record(f.Fill)
		ev := classified(console, lr)
		require.Equal(t, classify.Wrapper, ev.Kind, "body %d", body)
		var kinds []classify.Kind
		console.Unwrap(lr, &ev, func(e *classify.Observation) { kinds = append(kinds, e.Kind) })
		assert.Equal(t, []classify.Kind{classify.ConsoleLoginFailure, classify.Unrelated, classify.ConsoleLoginSuccess}, kinds, "body %d", body)
	}
}
