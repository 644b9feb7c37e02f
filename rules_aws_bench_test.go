package aadhostlogincorrelation

import (
	"testing"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

func init() {
	// CloudTrail API calls (no console login): raw events in map bodies, as a JSON parse upstream
	// leaves them.
	benchBatchKinds["cloudtrail_api_calls"] = func(b *batch, ip string, t time.Time) {
		shapes.ConsoleLogin{Shape: shapes.CloudTrailEvent, EventName: "DescribeInstances", EventSource: "ec2.amazonaws.com",
			Addr: ip, Time: t}.Fill(b.record(map[string]string{"cloud.provider": "aws"}))
	}
}

// What CloudTrail costs with rules C and D running: events that are no console login (API calls,
// here raw events in map bodies, as a JSON parse upstream leaves them) against unrelated records
// with the same rules; both should cost about the same.

func allRules(c *Config) {
	withRules("aad-then-host", "host-then-aad", "aad-then-aws-console", "aws-console-then-aad")(c)
}

func BenchmarkUnrelatedAllRules(b *testing.B) { benchmarkProcessorWith(b, "unrelated", allRules) }

func BenchmarkCloudTrailAPICallsAllRules(b *testing.B) {
	benchmarkProcessorWith(b, "cloudtrail_api_calls", allRules)
}

// BenchmarkCloudTrailAPICallsSeed is the same traffic with the seed alone, which reads no
// CloudTrail: what walking such a record costs any rule set.
func BenchmarkCloudTrailAPICallsSeed(b *testing.B) {
	benchmarkProcessorWith(b, "cloudtrail_api_calls", nil)
}
