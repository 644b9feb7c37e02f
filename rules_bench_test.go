package aadhostlogincorrelation

import "testing"

// What running rule B beside the seed costs: unrelated records must cost what they cost with the
// seed alone (the classifier is asked for rule B's records only when it runs), and the realistic mix
// pays for the Windows 4625s and auth failure lines it now reads.

func BenchmarkUnrelatedBothRules(b *testing.B) {
	benchmarkProcessorWith(b, "unrelated", withRules("aad-then-host", "host-then-aad"))
}

func BenchmarkRealisticMixBothRules(b *testing.B) {
	benchmarkRealisticMix(b, withRules("aad-then-host", "host-then-aad"))
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
