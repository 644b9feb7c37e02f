package classify

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The published samples of testdata/cloud (see its README for sources and licences).

func cloudSample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "cloud", name))
	require.NoError(t, err)
	return string(data)
}

// TestAzureDocsSignInRecord: the Entra ID sign-in record of Azure's documentation, alone and in an
// Event Hubs message. Its addresses are placeholders: a counted rejection, never a sign-in; with a
// real address in their place it is a SigninLogs sign-in that did not fail (50140).
func TestAzureDocsSignInRecord(t *testing.T) {
	text := cloudSample(t, "azuredocs_entra_signin_azure_monitor.json")
	c := New(Rules{Kinds: signinSuccessKinds})
	ev := classifyUnchanged(t, c, newRecord(t, nil, text))
	assert.Equal(t, Rejected, ev.Kind)
	assert.Equal(t, RejectBadAddress, ev.Reject)

	message := `{"records": [` + text + `]}`
	got := unwrapAll(t, c, newRecord(t, nil, []byte(message)))
	assert.Equal(t, []observed{{Kind: Rejected, Reject: RejectBadAddress, Table: SigninLogs,
		Time: mustTime(t, "2019-03-12T16:02:15.5522137Z"), InWrapper: true}}, got)

	real := strings.NewReplacer("<CALLER IP ADDRESS>", "198.51.100.23", "<IP ADDRESS>", "198.51.100.23",
		"<USER PRINCIPAL NAME>", "timothy@contoso.com").Replace(message)
	want := []observed{{Kind: SigninLogsSuccess, Addr: "198.51.100.23", Table: SigninLogs, User: "timothy@contoso.com",
		Time: mustTime(t, "2019-03-12T16:02:15.5522137Z"), InWrapper: true}}
	assert.Equal(t, want, unwrapAll(t, c, newRecord(t, nil, real)))
	var parsed map[string]any
	require.NoError(t, json.Unmarshal([]byte(real), &parsed))
	assert.Equal(t, want, unwrapAll(t, c, newRecord(t, nil, parsed)), "map body")
	ev = classifyUnchanged(t, New(Rules{}), newRecord(t, nil, strings.TrimSuffix(strings.TrimPrefix(real, `{"records": [`), "]}")))
	assert.Equal(t, SignIn, ev.Kind, "alone, the seed's classifier")
	assert.Equal(t, "50140", ev.Cols[SignInResultType])
	assert.Equal(t, "Azure Portal", classifyUnchanged(t, c, newRecord(t, nil, strings.TrimSuffix(strings.TrimPrefix(real, `{"records": [`), "]}"))).Cols[SignInAppDisplayName])
}
