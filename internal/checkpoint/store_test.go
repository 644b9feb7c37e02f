package checkpoint

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"
)

// logState is a state that is the sequence of journal records applied to it: what Open and Compact
// rebuild must be every record appended, once, in order.
type logState struct{ log []byte }

func (s *logState) Restore(base []byte) error {
	if !bytes.HasPrefix(base, []byte("BASE")) {
		return errors.New("not a base")
	}
	s.log = bytes.Clone(base[4:])
	return nil
}
func (s *logState) Replay(records []byte) error { s.log = append(s.log, records...); return nil }
func (s *logState) Snapshot() ([]byte, error)   { return append([]byte("BASE"), s.log...), nil }

func (s *logState) SnapshotTo(size int, emit func([]byte) error) error {
	snap, _ := s.Snapshot()
	for at := 0; at < len(snap); at += size {
		if err := emit(bytes.Clone(snap[at:min(at+size, len(snap))])); err != nil {
			return err
		}
	}
	return nil
}

func newClient() storage.Client {
	return storagetest.NewInMemoryClient(component.KindProcessor, component.MustNewID("test"), "")
}

var rules = []byte("rules")

func open(t testing.TB, client storage.Client) (*Store, []byte, Loaded) {
	t.Helper()
	st := &logState{}
	s, ld, err := Open(context.Background(), client, rules, st)
	require.NoError(t, err)
	return s, st.log, ld
}

func TestAppendCompactReopen(t *testing.T) {
	ctx := context.Background()
	client := newClient()
	s, log, ld := open(t, client)
	assert.False(t, ld.Found)
	assert.Empty(t, log)
	var want []byte
	for i := range 40 {
		rec := []byte(fmt.Sprintf("<%d>", i))
		want = append(want, rec...)
		require.NoError(t, s.Append(ctx, rec))
		if i%7 == 6 {
			require.NoError(t, s.Compact(ctx, &logState{}, nil))
		}
		if i%5 == 0 {
			_, got, ld := open(t, client)
			assert.True(t, ld.Found)
			require.Equal(t, string(want), string(got), "after record %d", i)
		}
	}
	_, journal := s.Sizes()
	assert.Equal(t, int64(len("<35><36><37><38><39>")), journal, "the journal since the last compaction")
	require.NoError(t, s.Sweep(ctx))
	keys := walk(t, client)
	assert.Equal(t, []string{"b/5/0", "j/35", "j/36", "j/37", "j/38", "j/39", "meta"}, keys, "old pieces and chunks deleted")
}

// TestCompactionKeepsChunksAppendedMeanwhile: chunks appended while a compaction runs are not in
// its base and stay in the journal.
func TestCompactionKeepsChunksAppendedMeanwhile(t *testing.T) {
	ctx := context.Background()
	client := newClient()
	s, _, _ := open(t, client)
	require.NoError(t, s.Append(ctx, []byte("a")))
	replica := &appendingState{logState: logState{}, during: func() { require.NoError(t, s.Append(ctx, []byte("b"))) }}
	require.NoError(t, s.Compact(ctx, replica, nil))
	require.NoError(t, s.Append(ctx, []byte("c")))
	_, got, _ := open(t, client)
	assert.Equal(t, "abc", string(got))
}

// appendingState calls during while its snapshot is taken.
type appendingState struct {
	logState
	during func()
}

func (s *appendingState) SnapshotTo(size int, emit func([]byte) error) error {
	s.during()
	return s.logState.SnapshotTo(size, emit)
}

func TestDamageIsDetected(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(storage.Client)
		want   string
	}{
		{"journal byte flipped", flip("j/2"), "journal checksum mismatch"},
		{"journal chunk missing", func(c storage.Client) { _ = c.Delete(ctx, "j/3") }, "missing"},
		{"journal chunk swapped", func(c storage.Client) {
			a, _ := c.Get(ctx, "j/3")
			_ = c.Set(ctx, "j/2", a)
		}, "journal chunk says it is 3"},
		{"meta byte flipped", flip("meta"), "meta checksum mismatch"},
		{"meta cut short", func(c storage.Client) { _ = c.Set(ctx, "meta", []byte("AHLCME")) }, "no meta header"},
		{"base piece missing", func(c storage.Client) { _ = c.Delete(ctx, "b/1/0") }, "base piece 0 of 1 missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := newClient()
			s, _, _ := open(t, client)
			require.NoError(t, s.Append(ctx, []byte("<0>")))
			require.NoError(t, s.Append(ctx, []byte("<1>")))
			require.NoError(t, s.Compact(ctx, &logState{}, nil))
			for i := 2; i < 5; i++ {
				require.NoError(t, s.Append(ctx, []byte(fmt.Sprintf("<%d>", i))))
			}
			tc.damage(client)
			st := &logState{}
			s2, ld, err := Open(ctx, client, rules, st)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, ld.Found)
			// A new base from what was usable, and the store goes on.
			snap, _ := st.Snapshot()
			require.NoError(t, s2.Rebase(ctx, snap))
			require.NoError(t, s2.Append(ctx, []byte("<5>")))
			require.NoError(t, s2.Sweep(ctx))
			_, got, _ := open(t, client)
			assert.Equal(t, string(st.log)+"<5>", string(got))
		})
	}
}

func TestOtherRulesAreIncompatible(t *testing.T) {
	ctx := context.Background()
	client := newClient()
	s, _, _ := open(t, client)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	_, _, err := Open(ctx, client, []byte("other rules"), &logState{})
	require.ErrorIs(t, err, ErrIncompatible)
}

// flip returns a damage that flips a byte in the middle of key's value.
func flip(key string) func(storage.Client) {
	return func(c storage.Client) {
		v, _ := c.Get(context.Background(), key)
		v = bytes.Clone(v)
		v[len(v)/2] ^= 0xff
		_ = c.Set(context.Background(), key, v)
	}
}

func walk(t *testing.T, client storage.Client) []string {
	t.Helper()
	var keys []string
	require.NoError(t, client.(storage.Walker).Walk(context.Background(), func(k string, _ []byte) ([]*storage.Operation, error) {
		keys = append(keys, k)
		return nil, nil
	}))
	return keys
}

// FuzzOpen: whatever the meta and a journal chunk hold, Open refuses or reads them, never panics.
func FuzzOpen(f *testing.F) {
	ctx := context.Background()
	client := newClient()
	s, _, _ := open(f, client)
	_ = s.Append(ctx, []byte("<0>"))
	meta, _ := client.Get(ctx, "meta")
	chunk, _ := client.Get(ctx, "j/0")
	f.Add(meta, chunk)
	f.Fuzz(func(t *testing.T, meta, chunk []byte) {
		c := newClient()
		_ = c.Set(ctx, "meta", meta)
		_ = c.Set(ctx, "j/0", chunk)
		_, _, _ = Open(ctx, c, rules, &logState{})
	})
}

// failingClient fails the operations fail says to fail.
type failingClient struct {
	storage.Client
	fail func(ops []*storage.Operation) bool
}

func (c *failingClient) Set(ctx context.Context, key string, value []byte) error {
	return c.Batch(ctx, storage.SetOperation(key, value))
}

func (c *failingClient) Delete(ctx context.Context, key string) error {
	return c.Batch(ctx, storage.DeleteOperation(key))
}

func (c *failingClient) Batch(ctx context.Context, ops ...*storage.Operation) error {
	if c.fail(ops) {
		return errors.New("storage failing")
	}
	return c.Client.Batch(ctx, ops...)
}

func (c *failingClient) Walk(ctx context.Context, fn storage.WalkFunc) error {
	return c.Client.(storage.Walker).Walk(ctx, fn)
}

// TestCompactionInPieces: a base larger than a piece is written in pieces as the replica encodes
// it, and a compaction cut short at any point (an error from the storage, the context cancelled
// while it rests) leaves the checkpoint as it was; what it wrote is deleted by the next start's
// sweep, and the next compaction succeeds.
func TestCompactionInPieces(t *testing.T) {
	ctx := context.Background()
	big := bytes.Repeat([]byte("0123456789abcdef"), 2*ChunkSize/16+100) // some 2.01 pieces
	prepare := func(t *testing.T) (storage.Client, *Store, string) {
		client := newClient()
		s, _, _ := open(t, client)
		require.NoError(t, s.Append(ctx, big))
		require.NoError(t, s.Compact(ctx, &logState{}, nil))
		require.NoError(t, s.Append(ctx, []byte("<tail>")))
		return client, s, string(big) + "<tail>"
	}
	client, s, want := prepare(t)
	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	_, got, _ := open(t, client)
	require.Equal(t, want, string(got))
	base, journal := s.Sizes()
	assert.Equal(t, int64(len("BASE")+len(want)), base)
	assert.Zero(t, journal)
	assert.Equal(t, []string{"b/2/0", "b/2/1", "b/2/2", "meta"}, walk(t, client), "the replaced base and chunks deleted")

	// Three pieces written, the meta, three pieces and a chunk deleted.
	for cut := range 8 {
		t.Run(fmt.Sprintf("storage fails at operation %d", cut), func(t *testing.T) {
			client, s, want := prepare(t)
			ops := 0
			failing := &failingClient{Client: client, fail: func(o []*storage.Operation) bool {
				if o[0].Type == storage.Get {
					return false
				}
				ops++
				return ops == cut+1
			}}
			s.client = failing
			err := s.Compact(ctx, &logState{}, nil)
			require.Error(t, err)
			// The fourth write is the meta's: after it, the new base is in place.
			require.Equal(t, cut >= 4, errors.Is(err, ErrNotDeleted), "%v", err)
			_, got, _ := open(t, client)
			require.Equal(t, want, string(got), "the checkpoint holds what it held")
			// The next start sweeps what the compaction left, and the next compaction succeeds.
			s2, _, _ := open(t, client)
			require.NoError(t, s2.Sweep(ctx))
			require.NoError(t, s2.Compact(ctx, &logState{}, nil))
			_, got, _ = open(t, client)
			require.Equal(t, want, string(got))
			require.NoError(t, s2.Sweep(ctx))
			keys := walk(t, client)
			require.Len(t, keys, 4, "three pieces and the meta: %v", keys)
		})
	}

	t.Run("cancelled while resting", func(t *testing.T) {
		client, s, want := prepare(t)
		cctx, cancel := context.WithCancel(ctx)
		pace := NewPacer(cctx, 0, time.Hour) // rests at every step, until cancelled
		time.AfterFunc(10*time.Millisecond, cancel)
		require.ErrorIs(t, s.Compact(cctx, &logState{}, pace), context.Canceled)
		_, got, _ := open(t, client)
		require.Equal(t, want, string(got))
	})
}

func TestPacerRestsBetweenSlices(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := NewPacer(ctx, time.Hour, time.Millisecond)
	for range 100 {
		require.NoError(t, p.Step())
	}
	n, _ := p.Rested()
	assert.Zero(t, n, "the slice is not over")
	require.NoError(t, p.Rest())
	n, _ = p.Rested()
	assert.Equal(t, 1, n, "a rest after a storage transaction, whatever the slice")
	p = NewPacer(ctx, 0, time.Millisecond)
	for range 3 {
		require.NoError(t, p.Step())
	}
	n, d := p.Rested()
	assert.Equal(t, 3, n)
	assert.GreaterOrEqual(t, d, 3*time.Millisecond)
	cancel()
	require.ErrorIs(t, p.Step(), context.Canceled)
	var none *Pacer
	require.NoError(t, none.Step())
}
