// Package checkpoint keeps a state in a storage extension as a base snapshot plus a journal of
// what the state observed since, so that a checkpoint costs what changed, not what is held.
//
// Layout (keys of two storage clients: the journal's, and the bases'):
//
//	meta         which base and which journal chunks make up the state, with the rule set they
//	             were made for, and which client holds the base; rewritten in the same transaction
//	             as every journal chunk (the journal's client)
//	j/<seq>      journal chunk seq: the observations of one flush (the journal's client)
//	b/<gen>/<i>  the i-th piece of base snapshot number gen, in pieces of at most ChunkSize bytes
//	             (the bases' client; the journal's, in checkpoints written before there were two)
//
// The bases are kept apart from the journal because a storage takes one writer at a time: with
// file_storage, each client is a file of its own, with a lock of its own. A batch that carries an
// alert writes the journal before it returns; in one file with the bases, it waited behind the
// compaction's piece writes, some of which held the file for 15 to 20 ms (the file growing by
// tens of megabytes while a new base is written beside the old one). Apart, it waits only behind
// the journal's own small transactions.
//
// The state is the base with the journal chunks [first, next) replayed onto it, in order. A flush
// writes chunk next and the meta that counts it in one transaction, so a crash leaves either the
// old or the new meta, never a meta that names a chunk not written. Compaction builds a new base
// away from the live state, in a replica: it reads the current base and journal back from the
// storage, replays the journal, and writes the result as the next generation's pieces as it encodes
// it; then it switches the meta to it in one small transaction, and deletes the pieces and chunks
// the new meta no longer names, one a transaction (a crash in between leaves keys that Sweep
// deletes at the next start). The live state is never locked for it, and the storage only for short
// transactions, which a batch that carries an alert may be waiting behind; a Pacer spreads the work
// over time so that it never holds a CPU for long either.
package checkpoint

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
	"sync"

	"go.opentelemetry.io/collector/extension/xextension/storage"

	"github.com/secops-otel/aadhostlogincorrelation/internal/codec"
)

// Magic strings start the meta and every journal chunk; a base starts with its snapshot's own.
const (
	metaMagic    = "AHLCMETA"
	journalMagic = "AHLCJRNL"
	metaVersion  = 2 // the base in the bases' client; a meta of version 1 has it in the journal's
	metaKey      = "meta"
)

// ChunkSize is the largest base piece written in one storage transaction.
const ChunkSize = 256 << 10

// A meta naming more pieces, or pieces larger, than these is damage (pieces of 4 MiB were written
// too, before 256 KiB).
const (
	maxPieces    = 1 << 24
	maxPieceSize = 4 << 20
)

// ErrIncompatible marks a checkpoint made for another rule set or by another version.
var ErrIncompatible = errors.New("incompatible checkpoint")

// ErrBasesUnavailable marks a checkpoint whose base is in the bases' client, opened without one:
// the checkpoint is not damaged, and must not be replaced.
var ErrBasesUnavailable = errors.New("the checkpoint's base is in the bases' storage, which is not open")

// ErrNotDeleted marks an error of a Rebase or Compact that happened after the new base was in
// place: only keys of what it replaced are left, which Sweep deletes at the next start.
var ErrNotDeleted = errors.New("the new base is in place, but what it replaced was not all deleted (the next start deletes it)")

// State is what a checkpoint is restored into.
type State interface {
	// Restore replaces the state with a base snapshot.
	Restore(base []byte) error
	// Replay applies journal records.
	Replay(journal []byte) error
}

// Replica is a state that a compaction rebuilds the next base in, away from the live state. It may
// keep views of the base and journal it is given.
type Replica interface {
	State
	// SnapshotTo encodes the state as a base, handing it to emit in consecutive pieces of size
	// bytes (the last one shorter); each piece is emit's to keep.
	SnapshotTo(size int, emit func(piece []byte) error) error
}

// meta says which keys make up the state.
type meta struct {
	ruleSet     []byte
	gen         uint64 // the base's generation
	pieces      int    // how many pieces the base has; 0: the empty state
	baseBytes   int64
	first, next uint64 // the journal chunks, [first, next)
	journal     int64  // their bytes
	apart       bool   // the base's pieces are in the bases' client (else in the journal's)
}

// encode encodes m as a meta of version 1 while its base is beside the journal (as earlier versions
// wrote it, so that they can still read it), of version 2 once it is apart.
func (m *meta) encode() []byte {
	version := byte(1)
	if m.apart {
		version = metaVersion
	}
	b := append([]byte(metaMagic), version)
	b = codec.AppendString(b, string(m.ruleSet))
	for _, v := range []int64{int64(m.gen), int64(m.pieces), m.baseBytes, int64(m.first), int64(m.next), m.journal} {
		b = binary.AppendVarint(b, v)
	}
	if m.apart {
		b = append(b, 1)
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func decodeMeta(data []byte) (meta, error) {
	var m meta
	if len(data) < len(metaMagic)+5 || string(data[:len(metaMagic)]) != metaMagic {
		return m, fmt.Errorf("corrupt checkpoint: no meta header (%d bytes)", len(data))
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(data[len(data)-4:]) {
		return m, errors.New("corrupt checkpoint: meta checksum mismatch")
	}
	r := codec.NewReader(body[len(metaMagic):])
	v := r.Byte()
	if v != 1 && v != metaVersion {
		return m, fmt.Errorf("%w: meta version %d, want %d", ErrIncompatible, v, metaVersion)
	}
	m.ruleSet = []byte(r.String())
	gen, pieces, baseBytes, first, next, journal := r.Varint(), r.Varint(), r.Varint(), r.Varint(), r.Varint(), r.Varint()
	apart := byte(0)
	if v == metaVersion {
		apart = r.Byte()
	}
	m.apart = apart == 1
	if r.Err() != nil || r.Len() != 0 || apart > 1 || min(gen, pieces, baseBytes, first, next, journal) < 0 || first > next ||
		pieces > baseBytes || pieces > maxPieces || baseBytes > pieces*maxPieceSize {
		return m, errors.New("corrupt checkpoint: meta")
	}
	m.gen, m.pieces, m.baseBytes, m.first, m.next, m.journal = uint64(gen), int(pieces), baseBytes, uint64(first), uint64(next), journal
	return m, nil
}

// holding returns the client that holds m's base: nil when it is in the bases' client and the
// store has none.
func (s *Store) holding(m meta) storage.Client {
	if !m.apart {
		return s.client
	}
	return s.bases
}

// placed is a key in one of the store's clients.
type placed struct {
	client storage.Client
	key    string
}

func baseKey(gen uint64, i int) string {
	return "b/" + strconv.FormatUint(gen, 10) + "/" + strconv.Itoa(i)
}
func journalKey(seq uint64) string { return "j/" + strconv.FormatUint(seq, 10) }

// Store is a state's checkpoint in a storage: the meta and the journal in one client, the bases in
// another. Its methods are safe for concurrent use: journal chunks are appended while a base is
// written.
type Store struct {
	client storage.Client // the meta and the journal
	bases  storage.Client // the bases written from now on (nil: client)

	baseMu sync.Mutex // one base written at a time (Rebase, Compact)

	mu   sync.Mutex // guards meta and every write of it
	meta meta
	// Written counts the bytes written to the storage (journal chunks, base pieces, meta).
	written int64
}

// Loaded says what Open found.
type Loaded struct {
	Found        bool  // a checkpoint was there (false: a first start, or a lost one)
	BaseBytes    int64 // bytes of the base restored
	JournalBytes int64 // bytes of journal replayed
	Chunks       int   // journal chunks replayed
}

// Open reads the checkpoint of client (its meta and journal) and bases (its base) into st; bases
// may be nil, for a store in one client. A base that an earlier version wrote into client is read
// from there, and the next base goes into bases. Damage is reported as an error: an error from the
// base leaves st empty; an error from a journal chunk leaves st as the chunks before it made it.
// Either way the store is usable: call Rebase with st's state to start a new checkpoint from it.
// ErrBasesUnavailable (a base apart, and bases nil) is not damage: the checkpoint must be left as
// it is, and the store not used.
func Open(ctx context.Context, client, bases storage.Client, ruleSet []byte, st State) (*Store, Loaded, error) {
	s := &Store{client: client, bases: bases, meta: meta{ruleSet: ruleSet, apart: bases != nil}}
	var ld Loaded
	data, err := client.Get(ctx, metaKey)
	if err != nil {
		return s, ld, fmt.Errorf("reading the checkpoint's meta: %w", err)
	}
	if data == nil {
		return s, ld, nil
	}
	ld.Found = true
	m, err := decodeMeta(data)
	if err != nil {
		return s, ld, err
	}
	// Whatever follows, new chunks and bases take numbers after the stored ones.
	s.meta.gen, s.meta.first, s.meta.next = m.gen, m.next, m.next
	if string(m.ruleSet) != string(ruleSet) {
		return s, ld, fmt.Errorf("%w: made for other rules (or their thresholds, windows or counters)", ErrIncompatible)
	}
	if m.pieces > 0 {
		holding := s.holding(m)
		if holding == nil {
			return s, ld, ErrBasesUnavailable
		}
		base, err := readBase(ctx, holding, m, nil)
		if err != nil {
			return s, ld, err
		}
		if err := st.Restore(base); err != nil {
			return s, ld, err
		}
		ld.BaseBytes = int64(len(base))
	}
	for seq := m.first; seq < m.next; seq++ {
		records, err := readJournal(ctx, client, seq)
		if err == nil {
			err = st.Replay(records)
		}
		if err != nil {
			return s, ld, fmt.Errorf("journal chunk %d of %d..%d: %w", seq, m.first, m.next-1, err)
		}
		ld.Chunks++
		ld.JournalBytes += int64(len(records))
	}
	s.meta = m
	return s, ld, nil
}

// readBase reads and joins the base's pieces, resting (pace may be nil) after each.
func readBase(ctx context.Context, client storage.Client, m meta, pace *Pacer) ([]byte, error) {
	base := make([]byte, 0, min(m.baseBytes, 1<<30))
	for i := range m.pieces {
		piece, err := client.Get(ctx, baseKey(m.gen, i))
		if err != nil {
			return nil, fmt.Errorf("reading base piece %d: %w", i, err)
		}
		if piece == nil {
			return nil, fmt.Errorf("corrupt checkpoint: base piece %d of %d missing", i, m.pieces)
		}
		base = append(base, piece...)
		if err := pace.Rest(); err != nil {
			return nil, err
		}
	}
	if int64(len(base)) != m.baseBytes {
		return nil, fmt.Errorf("corrupt checkpoint: base of %d bytes, want %d", len(base), m.baseBytes)
	}
	return base, nil
}

// readJournal reads journal chunk seq and checks it.
func readJournal(ctx context.Context, client storage.Client, seq uint64) ([]byte, error) {
	data, err := client.Get(ctx, journalKey(seq))
	if err != nil {
		return nil, err
	}
	if data == nil {
		return nil, errors.New("corrupt checkpoint: missing")
	}
	if len(data) < len(journalMagic)+5 || string(data[:len(journalMagic)]) != journalMagic {
		return nil, errors.New("corrupt checkpoint: no journal header")
	}
	body := data[:len(data)-4]
	if crc32.ChecksumIEEE(body) != binary.BigEndian.Uint32(data[len(data)-4:]) {
		return nil, errors.New("corrupt checkpoint: journal checksum mismatch")
	}
	got, n := binary.Uvarint(body[len(journalMagic):])
	if n <= 0 || got != seq {
		return nil, fmt.Errorf("corrupt checkpoint: journal chunk says it is %d", got)
	}
	return body[len(journalMagic)+n:], nil
}

// Append writes journal records as the next chunk, in one transaction with the meta that counts it.
func (s *Store) Append(ctx context.Context, records []byte) error {
	if len(records) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := s.meta.next
	chunk := append([]byte(journalMagic), binary.AppendUvarint(nil, seq)...)
	chunk = append(chunk, records...)
	chunk = binary.BigEndian.AppendUint32(chunk, crc32.ChecksumIEEE(chunk))
	m := s.meta
	m.next++
	m.journal += int64(len(records))
	encoded := m.encode()
	if err := s.client.Batch(ctx, storage.SetOperation(journalKey(seq), chunk), storage.SetOperation(metaKey, encoded)); err != nil {
		return err
	}
	s.meta = m
	s.written += int64(len(chunk) + len(encoded))
	return nil
}

// Written returns the bytes written so far.
func (s *Store) Written() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// Sizes returns the bytes of the current base and of the journal since it.
func (s *Store) Sizes() (base, journal int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.meta.baseBytes, s.meta.journal
}

// Rebase makes snapshot (nil for the empty state) the checkpoint's base, with an empty journal, and
// deletes every other piece and chunk it knows of.
func (s *Store) Rebase(ctx context.Context, snapshot []byte) error {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	s.mu.Lock()
	gen := s.meta.gen + 1
	s.mu.Unlock()
	pieces := 0
	for at := 0; at < len(snapshot); at += ChunkSize {
		if err := s.writePiece(ctx, gen, pieces, snapshot[at:min(at+ChunkSize, len(snapshot))]); err != nil {
			return err
		}
		pieces++
	}
	s.mu.Lock()
	replaced, err := s.switchTo(ctx, gen, pieces, int64(len(snapshot)), s.meta.next, s.meta.journal)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.delete(ctx, replaced, nil)
}

// writePiece writes piece i of generation gen.
func (s *Store) writePiece(ctx context.Context, gen uint64, i int, piece []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	client := s.client
	if s.bases != nil {
		client = s.bases
	}
	if err := client.Set(ctx, baseKey(gen, i), piece); err != nil {
		return fmt.Errorf("writing base piece %d: %w", i, err)
	}
	s.mu.Lock()
	s.written += int64(len(piece))
	s.mu.Unlock()
	return nil
}

// switchTo makes generation gen's pieces (written by writePiece) the base, with the journal chunks
// from first on (the chunks before it held compacted bytes), in one small transaction, and returns
// the keys of the base and the chunks it replaced: no meta names them any more, so deleting them is
// left to the caller, after (a crash before they are all deleted leaves keys that Sweep deletes at
// the next start). s.mu is held.
func (s *Store) switchTo(ctx context.Context, gen uint64, pieces int, baseBytes int64, first uint64, compacted int64) ([]placed, error) {
	old := s.meta
	m := old
	m.gen, m.pieces, m.baseBytes, m.first, m.apart = gen, pieces, baseBytes, first, s.bases != nil
	m.journal = old.journal - compacted
	encoded := m.encode()
	if err := s.client.Set(ctx, metaKey, encoded); err != nil {
		return nil, err
	}
	s.written += int64(len(encoded))
	s.meta = m
	replaced := make([]placed, 0, old.pieces+int(first-old.first))
	for i := range old.pieces {
		replaced = append(replaced, placed{s.holding(old), baseKey(old.gen, i)})
	}
	for seq := old.first; seq < first; seq++ {
		replaced = append(replaced, placed{s.client, journalKey(seq)})
	}
	return replaced, nil
}

// delete deletes keys, one a transaction, resting (pace may be nil) after each: a batch that
// carries an alert may be waiting for the storage, and one key is the shortest hold. (With 32 keys
// a transaction, file_storage's file ended some 15% larger after an hour of compactions at 100 K
// addresses, in some runs 30%: its free space ends up in pieces too small for the next base's.
// With one key, and with every key in one transaction as before, it does not.)
func (s *Store) delete(ctx context.Context, keys []placed, pace *Pacer) error {
	for _, k := range keys {
		if err := k.client.Delete(ctx, k.key); err != nil {
			return fmt.Errorf("%w: %w", ErrNotDeleted, err)
		}
		if err := pace.Rest(); err != nil {
			return fmt.Errorf("%w: %w", ErrNotDeleted, err)
		}
	}
	return nil
}

// Compact builds a new base from the current base and journal in replica (an empty state of the
// same rule set), writes it as it is encoded, and switches to it. Journal chunks appended meanwhile
// are kept. pace (may be nil) spreads the work over time: it rests after each storage transaction,
// and should be the replica's too.
func (s *Store) Compact(ctx context.Context, replica Replica, pace *Pacer) error {
	s.baseMu.Lock()
	defer s.baseMu.Unlock()
	s.mu.Lock()
	m := s.meta
	s.mu.Unlock()
	if m.pieces > 0 {
		holding := s.holding(m)
		if holding == nil {
			return ErrBasesUnavailable
		}
		base, err := readBase(ctx, holding, m, pace)
		if err != nil {
			return err
		}
		if err := replica.Restore(base); err != nil {
			return err
		}
	}
	for seq := m.first; seq < m.next; seq++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		records, err := readJournal(ctx, s.client, seq)
		if err == nil {
			err = replica.Replay(records)
		}
		if err != nil {
			return fmt.Errorf("journal chunk %d: %w", seq, err)
		}
		if err := pace.Rest(); err != nil {
			return err
		}
	}
	gen := m.gen + 1
	pieces, size := 0, int64(0)
	err := replica.SnapshotTo(ChunkSize, func(piece []byte) error {
		if err := s.writePiece(ctx, gen, pieces, piece); err != nil {
			return err
		}
		pieces++
		size += int64(len(piece))
		return pace.Rest()
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	replaced, err := s.switchTo(ctx, gen, pieces, size, m.next, m.journal)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return s.delete(ctx, replaced, pace)
}

// Sweep deletes every key of the storage's clients that the meta does not name (the pieces of a
// compaction cut short by a crash, chunks of a checkpoint that was refused, the pieces of a base
// that an earlier version wrote beside the journal), when the storage can list its keys. The keys
// the meta names are kept in either client: a storage whose clients share their keys loses nothing.
func (s *Store) Sweep(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.meta
	clients := []storage.Client{s.client}
	if s.bases != nil {
		clients = append(clients, s.bases)
	}
	for _, c := range clients {
		w, ok := c.(storage.Walker)
		if !ok {
			continue
		}
		err := w.Walk(ctx, func(key string, _ []byte) ([]*storage.Operation, error) {
			if (strings.HasPrefix(key, "b/") || strings.HasPrefix(key, "j/")) && !names(m, key) {
				return []*storage.Operation{storage.DeleteOperation(key)}, nil
			}
			return nil, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// names reports whether key is a piece or chunk of m.
func names(m meta, key string) bool {
	if rest, ok := strings.CutPrefix(key, "j/"); ok {
		seq, err := strconv.ParseUint(rest, 10, 64)
		return err == nil && seq >= m.first && seq < m.next
	}
	if rest, ok := strings.CutPrefix(key, "b/"); ok {
		g, i, ok := strings.Cut(rest, "/")
		gen, err1 := strconv.ParseUint(g, 10, 64)
		n, err2 := strconv.Atoi(i)
		return ok && err1 == nil && err2 == nil && gen == m.gen && n >= 0 && n < m.pieces
	}
	return false
}
