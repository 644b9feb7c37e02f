package loadmix_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/consumer/consumertest"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/processor/processortest"

	aad "github.com/secops-otel/aadhostlogincorrelation"
	"github.com/secops-otel/aadhostlogincorrelation/internal/classify"
	"github.com/secops-otel/aadhostlogincorrelation/internal/loadmix"
)

// The mix is what the benchmarks claim it is: 90% application logs, every kind the rule
// looks at, and through the processor exactly one alert per attack and none from background traffic.
func TestMixThroughTheProcessor(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(map[bool]string{false: "Batch", true: "Next"}[reuse], func(t *testing.T) { testMix(t, reuse) })
	}
}

func testMix(t *testing.T, reuse bool) {
	sink := new(consumertest.LogsSink)
	f := aad.NewFactory()
	set := processortest.NewNopSettings(f.Type())
	proc, err := f.CreateLogs(context.Background(), set, f.CreateDefaultConfig(), sink)
	require.NoError(t, err)
	require.NoError(t, proc.Start(context.Background(), componenttest.NewNopHost()))
	defer func() { require.NoError(t, proc.Shutdown(context.Background())) }()

	const batches, batchSize, attackEvery = 200, 1000, 10
	c := classify.New(classify.Rules{})
	var kinds [classify.MaxKinds]int
	var ev classify.Observation
	var attacks, records, alerts int
	for w := range uint32(2) {
		m := loadmix.NewMix(batchSize, attackEvery, w)
		for range batches {
			next := m.Batch
			if reuse {
				next = m.Next
			}
			ld, attack := next(time.Now())
			if attack {
				attacks++
			}
			require.Equal(t, batchSize, ld.LogRecordCount())
			for _, rl := range ld.ResourceLogs().All() {
				for _, sl := range rl.ScopeLogs().All() {
					for _, lr := range sl.LogRecords().All() {
						c.Classify(lr, &ev)
						kinds[ev.Kind]++
						records++
					}
				}
			}
			require.NoError(t, proc.ConsumeLogs(context.Background(), ld))
			alerts += countAlerts(ld) // emit all: the alerts are appended to the batch, which Next may send again
			ld.ResourceLogs().RemoveIf(func(rl plog.ResourceLogs) bool {
				return rl.ScopeLogs().Len() > 0 && rl.ScopeLogs().At(0).Scope().Name() == alertScope
			})
		}
	}
	assert.Equal(t, 2*batches/attackEvery, attacks)
	// 90% application logs, plus auth lines that are no logon (failed passwords, sessions, 4625,
	// 4624 of logon types that do not count).
	assert.InDelta(t, 0.92, float64(kinds[classify.Unrelated])/float64(records), 0.01, "unrelated share")
	for _, k := range []classify.Kind{classify.FailedSigninLogs, classify.SignIn, classify.LinuxLogon, classify.SecurityEventLogon} {
		assert.Positive(t, kinds[k], "kind %v", k)
	}
	assert.Zero(t, kinds[classify.Rejected])

	assert.Equal(t, attacks, alerts, "one alert per attack")
	assert.Len(t, sink.AllLogs(), 2*batches)
}

func TestAttack(t *testing.T) {
	failures, logon := loadmix.Attack(loadmix.AttackerAddr(1), true, time.Now())
	assert.Equal(t, loadmix.AttackFailures, failures.LogRecordCount())
	assert.Equal(t, 1, logon.LogRecordCount())
	assert.Equal(t, "172.16.0.1", loadmix.AttackerAddr(1))
	assert.Equal(t, "172.31.0.2", loadmix.AttackerAddr(15<<16+2))
}

const alertScope = "github.com/secops-otel/aadhostlogincorrelation"

func countAlerts(ld plog.Logs) int {
	n := 0
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			if sl.Scope().Name() == alertScope {
				n += sl.LogRecords().Len()
			}
		}
	}
	return n
}
