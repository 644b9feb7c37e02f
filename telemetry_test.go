package aadhostlogincorrelation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// TestAttributeValuesAreDocumented: every value of the kind and reason attributes the processor
// emits is in metadata.yaml's enums (from which documentation.md is generated).
func TestAttributeValuesAreDocumented(t *testing.T) {
	conf, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	enum := func(attr string) []any {
		values, ok := conf.Get("attributes::" + attr + "::enum").([]any)
		require.True(t, ok, "metadata.yaml has attributes.%s.enum", attr)
		return values
	}
	kinds := enum("kind")
	for k := range classify.NumKinds() {
		assert.Contains(t, kinds, classify.Kind(k).String())
	}
	reasons := enum("reason")
	for _, r := range reasonValues() {
		assert.Contains(t, reasons, r)
	}
}
