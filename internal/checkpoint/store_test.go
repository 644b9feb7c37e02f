package checkpoint

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/open-telemetry/opentelemetry-collector-contrib/extension/storage/storagetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/component"
	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/secops-otel/aadhostlogincorrelation/internal/checkpoint/checkpointtest"
	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
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

// clients are a store's two clients, as the processor opens them: the meta's and journal's, and
// the bases'.
type clients struct{ journal, bases storage.Client }

func newClients() clients { return clients{newClient(), newClient()} }

var rules = []byte("rules")

func open(t testing.TB, c clients) (*Store, []byte, Loaded) {
	t.Helper()
	st := &logState{}
	s, ld, err := Open(context.Background(), c.journal, c.bases, rules, st)
	require.NoError(t, err)
	return s, st.log, ld
}

func TestAppendCompactReopen(t *testing.T) {
	ctx := context.Background()
	client := newClients()
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
	assert.Equal(t, []string{"j/35", "j/36", "j/37", "j/38", "j/39", "meta"}, walk(t, client.journal), "old chunks deleted")
	assert.Equal(t, []string{"b/5/0"}, walk(t, client.bases), "old pieces deleted")
}

// TestCompactionKeepsChunksAppendedMeanwhile: chunks appended while a compaction runs are not in
// its base and stay in the journal.
func TestCompactionKeepsChunksAppendedMeanwhile(t *testing.T) {
	ctx := context.Background()
	client := newClients()
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
		damage func(clients)
		want   string
	}{
		{"journal byte flipped", flip("j/2"), "journal checksum mismatch"},
		{"journal chunk missing", func(c clients) { _ = c.journal.Delete(ctx, "j/3") }, "missing"},
		{"journal chunk swapped", func(c clients) {
			a, _ := c.journal.Get(ctx, "j/3")
			_ = c.journal.Set(ctx, "j/2", a)
		}, "journal chunk says it is 3"},
		{"meta byte flipped", flip("meta"), "meta checksum mismatch"},
		{"meta cut short", func(c clients) { _ = c.journal.Set(ctx, "meta", []byte("AHLCME")) }, "no meta header"},
		{"base piece missing", func(c clients) { _ = c.bases.Delete(ctx, "b/1/0") }, "base piece 0 of 1 missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := newClients()
			s, _, _ := open(t, client)
			require.NoError(t, s.Append(ctx, []byte("<0>")))
			require.NoError(t, s.Append(ctx, []byte("<1>")))
			require.NoError(t, s.Compact(ctx, &logState{}, nil))
			for i := 2; i < 5; i++ {
				require.NoError(t, s.Append(ctx, []byte(fmt.Sprintf("<%d>", i))))
			}
			tc.damage(client)
			st := &logState{}
			s2, ld, err := Open(ctx, client.journal, client.bases, rules, st)
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
	client := newClients()
	s, _, _ := open(t, client)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	_, _, err := Open(ctx, client.journal, client.bases, []byte("other rules"), &logState{})
	require.ErrorIs(t, err, ErrIncompatible)
}

// flip returns a damage that flips a byte in the middle of key's value, in the journal's client.
func flip(key string) func(clients) {
	return func(c clients) {
		v, _ := c.journal.Get(context.Background(), key)
		v = bytes.Clone(v)
		v[len(v)/2] ^= 0xff
		_ = c.journal.Set(context.Background(), key, v)
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
	client := newClients()
	s, _, _ := open(f, client)
	_ = s.Append(ctx, []byte("<0>"))
	meta, _ := client.journal.Get(ctx, "meta")
	chunk, _ := client.journal.Get(ctx, "j/0")
	f.Add(meta, chunk)
	f.Add(encodeV1(t0meta(f, meta)), chunk)
	f.Fuzz(func(t *testing.T, meta, chunk []byte) {
		c := newClients()
		_ = c.journal.Set(ctx, "meta", meta)
		_ = c.journal.Set(ctx, "j/0", chunk)
		_ = c.bases.Set(ctx, "b/0/0", chunk)
		_, _, _ = Open(ctx, c.journal, c.bases, rules, &logState{})
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
	prepare := func(t *testing.T) (clients, *Store, string) {
		client := newClients()
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
	assert.Equal(t, []string{"meta"}, walk(t, client.journal), "the replaced chunks deleted")
	assert.Equal(t, []string{"b/2/0", "b/2/1", "b/2/2"}, walk(t, client.bases), "the replaced base deleted")

	// Three pieces written, the meta, three pieces and a chunk deleted (in either client: one count).
	for cut := range 8 {
		t.Run(fmt.Sprintf("storage fails at operation %d", cut), func(t *testing.T) {
			client, s, want := prepare(t)
			ops := 0
			fail := func(o []*storage.Operation) bool {
				if o[0].Type == storage.Get {
					return false
				}
				ops++
				return ops == cut+1
			}
			s.client = &failingClient{Client: client.journal, fail: fail}
			s.bases = &failingClient{Client: client.bases, fail: fail}
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
			require.Equal(t, []string{"meta"}, walk(t, client.journal))
			require.Len(t, walk(t, client.bases), 3, "three pieces")
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

// TestJournalNeverWaitsForABase: while a compaction's write of a base piece holds the bases'
// storage, a journal chunk (what a batch that carries an alert writes before it returns) is
// written at once. In one client with the bases it would wait for the piece: a storage takes one
// writer at a time.
func TestJournalNeverWaitsForABase(t *testing.T) {
	ctx := context.Background()
	release, entered := make(chan struct{}), make(chan struct{}, 1)
	stall := func(key string) {
		if strings.HasPrefix(key, "b/") {
			select {
			case entered <- struct{}{}:
			default:
			}
			<-release
		}
	}
	journal := &checkpointtest.SerialClient{Client: newClient(), Stall: stall}
	bases := &checkpointtest.SerialClient{Client: newClient(), Stall: stall}
	c := clients{journal, bases}
	s, _, _ := open(t, c)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	compacted := make(chan error, 1)
	go func() { compacted <- s.Compact(ctx, &logState{}, nil) }()
	<-entered // the compaction holds the bases' storage, writing a piece
	appended := make(chan error, 1)
	go func() { appended <- s.Append(ctx, []byte("<1>")) }()
	select {
	case err := <-appended:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("the journal's write waited for the compaction's write of a base piece")
	}
	close(release)
	require.NoError(t, <-compacted)
	_, got, _ := open(t, c)
	assert.Equal(t, "<0><1>", string(got))
	assert.Equal(t, []string{"b/1/0"}, walk(t, bases.Client), "the base in the bases' client")
	assert.Equal(t, []string{"j/1", "meta"}, walk(t, journal.Client), "the meta and the journal in the journal's client")
}

// t0meta decodes the meta a test store wrote.
func t0meta(t testing.TB, data []byte) meta {
	m, err := decodeMeta(data)
	require.NoError(t, err)
	return m
}

// encodeV1 encodes m as a meta of version 1, before the bases had a client of their own: no
// byte says where the base is (it is in the journal's client).
func encodeV1(m meta) []byte {
	b := append([]byte(metaMagic), 1)
	b = codec.AppendString(b, string(m.ruleSet))
	for _, v := range []int64{int64(m.gen), int64(m.pieces), m.baseBytes, int64(m.first), int64(m.next), m.journal} {
		b = binary.AppendVarint(b, v)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// TestBaseBesideTheJournalIsRead: a checkpoint of an earlier version, its base beside the journal
// in one client and its meta of version 1, is restored; the next compaction writes the base into
// the bases' client, and the sweep deletes the old pieces.
func TestBaseBesideTheJournalIsRead(t *testing.T) {
	ctx := context.Background()
	one := clients{journal: newClient()} // no bases' client: the base beside the journal
	s, _, _ := open(t, one)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	require.NoError(t, s.Append(ctx, []byte("<1>")))
	require.Equal(t, []string{"b/1/0", "j/1", "meta"}, walk(t, one.journal))
	data, err := one.journal.Get(ctx, metaKey)
	require.NoError(t, err)
	m := t0meta(t, data)
	require.False(t, m.apart)
	require.NoError(t, one.journal.Set(ctx, metaKey, encodeV1(m)))

	two := clients{journal: one.journal, bases: newClient()}
	s, got, ld := open(t, two)
	require.True(t, ld.Found)
	require.Equal(t, "<0><1>", string(got))
	require.NoError(t, s.Sweep(ctx))
	require.Equal(t, []string{"b/1/0", "j/1", "meta"}, walk(t, two.journal), "the sweep keeps the base it names")
	require.NoError(t, s.Append(ctx, []byte("<2>")))
	_, got, _ = open(t, two)
	require.Equal(t, "<0><1><2>", string(got), "a chunk appended onto a meta of version 1")

	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	require.Equal(t, []string{"meta"}, walk(t, two.journal), "the old base and chunks deleted")
	require.Equal(t, []string{"b/2/0"}, walk(t, two.bases))
	_, got, _ = open(t, two)
	require.Equal(t, "<0><1><2>", string(got))
	data, _ = two.journal.Get(ctx, metaKey)
	require.True(t, t0meta(t, data).apart)

	// Leftover pieces in the journal's client (a crash before they were deleted) go at the next sweep.
	require.NoError(t, two.journal.Set(ctx, "b/1/0", []byte("BASEleft")))
	s, _, _ = open(t, two)
	require.NoError(t, s.Sweep(ctx))
	require.Equal(t, []string{"meta"}, walk(t, two.journal))
	require.Equal(t, []string{"b/2/0"}, walk(t, two.bases))
}

// TestBaseApartWithoutTheBasesClient: a checkpoint whose base is in the bases' client, opened
// without it (its file could not be opened), is not damage: Open says so, and the checkpoint is
// still whole for a start that has the client again.
func TestBaseApartWithoutTheBasesClient(t *testing.T) {
	ctx := context.Background()
	c := newClients()
	s, _, _ := open(t, c)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	require.NoError(t, s.Append(ctx, []byte("<1>")))
	_, _, err := Open(ctx, c.journal, nil, rules, &logState{})
	require.ErrorIs(t, err, ErrBasesUnavailable)
	_, got, _ := open(t, c)
	assert.Equal(t, "<0><1>", string(got))
}

// TestClientsSharingTheirKeys: a storage whose two clients are one key space (a storage extension
// that ignores the client's name) keeps the checkpoint through compactions and sweeps.
func TestClientsSharingTheirKeys(t *testing.T) {
	ctx := context.Background()
	one := newClient()
	c := clients{one, one}
	s, _, _ := open(t, c)
	for i := range 6 {
		require.NoError(t, s.Append(ctx, []byte(fmt.Sprintf("<%d>", i))))
		if i%2 == 1 {
			require.NoError(t, s.Compact(ctx, &logState{}, nil))
		}
		s2, got, _ := open(t, c)
		require.NoError(t, s2.Sweep(ctx))
		_, got2, _ := open(t, c)
		require.Equal(t, string(got), string(got2), "after the sweep")
	}
	_, got, _ := open(t, c)
	assert.Equal(t, "<0><1><2><3><4><5>", string(got))
	assert.Equal(t, []string{"b/3/0", "meta"}, walk(t, one))
}

// TestMetaOfTheEarlierLayoutIsWrittenAsBefore: while its base is beside the journal, the meta is
// written as version 1, which earlier versions read; once apart, as version 2.
func TestMetaOfTheEarlierLayoutIsWrittenAsBefore(t *testing.T) {
	ctx := context.Background()
	one := clients{journal: newClient()}
	s, _, _ := open(t, one)
	require.NoError(t, s.Append(ctx, []byte("<0>")))
	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	require.NoError(t, s.Append(ctx, []byte("<1>")))
	data, _ := one.journal.Get(ctx, metaKey)
	assert.Equal(t, byte(1), data[len(metaMagic)], "version 1")
	assert.Equal(t, encodeV1(t0meta(t, data)), data, "byte for byte as version 1 writes it")

	two := clients{journal: one.journal, bases: newClient()}
	s, _, _ = open(t, two)
	require.NoError(t, s.Append(ctx, []byte("<2>")))
	data, _ = two.journal.Get(ctx, metaKey)
	assert.Equal(t, byte(1), data[len(metaMagic)], "still version 1: the base is still beside the journal")
	require.NoError(t, s.Compact(ctx, &logState{}, nil))
	data, _ = two.journal.Get(ctx, metaKey)
	assert.Equal(t, byte(metaVersion), data[len(metaMagic)], "version 2 once apart")
}
