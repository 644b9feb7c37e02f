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
