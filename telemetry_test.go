package aadhostlogincorrelation

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/confmap/confmaptest"

	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
)

// TestKindsAreDocumented: every kind the records metric can carry is in metadata.yaml's enum (from
// which documentation.md is generated).
func TestKindsAreDocumented(t *testing.T) {
	conf, err := confmaptest.LoadConf("metadata.yaml")
	require.NoError(t, err)
	enum, ok := conf.Get("attributes::kind::enum").([]any)
	require.True(t, ok, "metadata.yaml has attributes.kind.enum")
	for k := classify.Kind(0); k <= classify.Rejected; k++ {
		assert.Contains(t, enum, k.String())
	}
}
