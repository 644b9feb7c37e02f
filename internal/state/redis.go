package state

import (
	"context"
	"crypto/tls"
	_ "embed"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/secops-otel/aadhostlogincorrelation/internal/alert"
	"github.com/secops-otel/aadhostlogincorrelation/internal/window"
)

// applyScript applies a whole batch atomically in Redis and returns its alerts (see the file for
// the key layout and the time representation).
//
//go:embed redis.lua
var applyScript string

// RedisOptions say where the shared state lives.
type RedisOptions struct {
	Addr     string // host:port
	Username string
	Password string
	DB       int
	TLS      *tls.Config // nil: plain TCP
	// KeyPrefix starts every key; collectors that share state use the same prefix and settings.
	KeyPrefix string
	// Timeout bounds each batch's round trip, connecting included.
	Timeout time.Duration
}

// Redis keeps the state in a Redis server shared by a fleet of collectors: each batch is applied by
// one Lua script, atomically and in one round trip, so collectors that receive interleaved parts of
// an attack emit each alert exactly once between them. It is not safe for concurrent use; the
// processor serialises batches.
//
// It runs any window.Config as the memory backend does: every rule of the configuration, in the same
// round trip. Event times travel as whole microseconds and the nanoseconds below them, and every
// decision in the script compares such pairs: decisions are exact to the nanosecond, as in memory.
type Redis struct {
	client   *redis.Client
	sha      string
	cfg      window.Config
	rules    string // the rule set as the script reads it (ARGV[2])
	together bool   // the shorthand with Tables 1: every failure goes to counter 0
	life     int64  // nanoseconds: the longest state outlives its time (a rule's span plus its suppress)
	prefix   string
	timeout  time.Duration
	keys     []string

	args []any
	sent []int // index in the batch of each event sent, in order
	buf  []byte

	clock       int64 // the fleet's clock as of the last batch
	ips, logons int   // fleet-wide sizes as of the last batch
	counters    Counters
	loaded      bool // the server has the script, as far as we know
	roundTrips  int64
	scriptSent  int64
}

// expireLimit bounds the IPs and logons one batch expires, so a batch's time in Redis stays short
// even when a large state ages out at once; the rest goes with the next batches.
const expireLimit = 1000

// minTTL is the shortest TTL a key gets: the TTL is a wall-clock safety net (two windows, plus
// suppress and skew), and a window of seconds must not make state vanish between two batches.
const minTTL = time.Minute

// NewRedis returns a backend on the Redis server of opts. It does not connect: the first batch
// does, and every batch after a failure tries again. The configuration must pass Check.
func NewRedis(opts RedisOptions, cfg window.Config) *Redis {
	if err := cfg.Check(); err != nil {
		panic("state: " + err.Error())
	}
	if cfg.MaxSuppressMarks <= 0 {
		cfg.MaxSuppressMarks = cfg.MaxPendingLogons
	}
	client := redis.NewClient(&redis.Options{
		Addr:      opts.Addr,
		Username:  opts.Username,
		Password:  opts.Password,
		DB:        opts.DB,
		TLSConfig: opts.TLS,
		// A batch never waits longer than the timeout, and is never sent twice: a retried script
		// could count the same failures twice.
		DialTimeout:           opts.Timeout,
		ReadTimeout:           opts.Timeout,
		WriteTimeout:          opts.Timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1,
		PoolSize:              2, // batches are serialised; a second connection covers one being replaced
		Protocol:              2,
		DisableIdentity:       true,
		MaintNotificationsConfig: &maintnotifications.Config{
			Mode: maintnotifications.ModeDisabled,
		},
	})
	p := opts.KeyPrefix + ruleSetKey(cfg.RuleSet)
	rules, together := ruleSet(cfg)
	return &Redis{
		client:   client,
		sha:      redis.NewScript(applyScript).Hash(),
		cfg:      cfg,
		rules:    encodeRules(rules),
		together: together,
		life:     longestLife(rules),
		prefix:   p,
		timeout:  opts.Timeout,
		keys:     []string{p + "clock", p + "seq", p + "ips", p + "logons", p + "newest", p + "marks"},
	}
}

// ruleSetKey is what the keys of a named rule set start with after the prefix: a hash of its
// name, so that collectors running other rules never read each other's state; "" for the seed.
func ruleSetKey(ruleSet string) string {
	if ruleSet == "" {
		return ""
	}
	h := fnv.New64a()
	h.Write([]byte(ruleSet))
	return fmt.Sprintf("r%016x:", h.Sum64())
}

// ruleSet returns the rules of cfg as the engine runs them: Rules, or the one rule of the shorthand
// (counters 0 and 1, or 0 alone with Tables 1, where every failure goes to counter 0).
func ruleSet(cfg window.Config) (rules []window.Rule, together bool) {
	if len(cfg.Rules) > 0 {
		return cfg.Rules, false
	}
	counters := []int{0, 1}
	if cfg.Tables == 1 {
		counters = []int{0}
	}
	return []window.Rule{{Threshold: cfg.Threshold, Window: cfg.Window, Suppress: cfg.Suppress, Counters: counters}},
		cfg.Tables == 1
}

// encodeRules writes the rules as the script reads them: per rule, in order, "k wu wn su sn ids"
// (threshold+1, window and suppress as microseconds and nanoseconds, the counters separated by
// commas), the rules separated by semicolons.
func encodeRules(rules []window.Rule) string {
	var b strings.Builder
	for i, r := range rules {
		if i > 0 {
			b.WriteByte(';')
		}
		wu, wn := split(r.Window)
		su, sn := split(r.Suppress)
		fmt.Fprintf(&b, "%d %d %d %d %d ", r.Threshold+1, wu, wn, su, sn)
		for j, c := range r.Counters {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(c))
		}
	}
	return b.String()
}

// longestLife is the longest any state lives past its event time: a rule's span (the longest
// window plus its own) and its suppress, for its marks.
func longestLife(rules []window.Rule) int64 {
	var maxWindow, life int64
	for _, r := range rules {
		maxWindow = max(maxWindow, r.Window)
	}
	for _, r := range rules {
		life = max(life, maxWindow+r.Window+r.Suppress)
	}
	return life
}

// Apply implements Backend: one EVALSHA (EVAL when the server does not know the script, e.g. after
// a restart) with every sign-in and logon of the batch. A batch with no event that is not from the
// future makes no round trip.
func (r *Redis) Apply(ctx context.Context, wall, maxSkew int64, events []Event, out []Alert) ([]Alert, error) {
	r.args = r.header(r.args[:0], maxSkew)
	r.sent = r.sent[:0]
	r.buf = r.buf[:0]
	for i := range events {
		ev := &events[i]
		if ev.Time > wall+maxSkew {
			ev.Verdict = window.Future
			continue
		}
		ev.Verdict = window.Current
		var err error
		if r.args, err = r.appendEvent(r.args, ev); err != nil {
			r.counters.Errors++ // a logon that cannot be encoded cannot wait in Redis; count it
			continue
		}
		r.sent = append(r.sent, i)
	}
	if len(r.sent) == 0 {
		return out, nil
	}
	r.args[argEvents] = len(r.sent)

	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	res, err := r.eval(ctx)
	clear(r.args) // drop references to this batch's payloads
	if err != nil {
		return out, fmt.Errorf("redis %s: %w", r.client.Options().Addr, err)
	}
	return r.read(res, events, out)
}

// eval runs the script by its digest; the first time, and when the server does not know it
// (NOSCRIPT: restarted, or SCRIPT FLUSH), it sends the script itself, which the server then keeps.
func (r *Redis) eval(ctx context.Context) (any, error) {
	r.roundTrips++
	if r.loaded {
		res, err := r.client.EvalSha(ctx, r.sha, r.keys, r.args...).Result()
		if err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
			return res, err
		}
		r.roundTrips++
	}
	r.scriptSent++
	res, err := r.client.Eval(ctx, applyScript, r.keys, r.args...).Result()
	r.loaded = err == nil
	return res, err
}

// argEvents is the index in the script's arguments of the event count, set once the batch is known.
const argEvents = 7

// header appends the script's fixed arguments (ARGV 1 to 8; 8, the event count, is set later).
func (r *Redis) header(args []any, maxSkew int64) []any {
	c := &r.cfg
	ttl := max(r.life+max(maxSkew, 0), int64(minTTL)) / int64(time.Millisecond)
	return append(args, r.prefix, r.rules, c.MaxTrackedIPs, c.MaxPendingLogons, ttl, expireLimit, c.MaxSuppressMarks, 0)
}

// AddrID is how the script names an address in keys and members: its 16-byte form (IPv4 as
// ::ffff:a.b.c.d) in hex, so that the order of the strings is the order of the addresses that the
// memory backend breaks ties of eviction with.
func AddrID(a netip.Addr) string {
	b := a.Unmap().As16()
	return hex.EncodeToString(b[:])
}

// appendEvent appends one event's seven arguments: a failure with its counter, a success with its
// rule.
func (r *Redis) appendEvent(args []any, ev *Event) ([]any, error) {
	u, n := split(ev.Time)
	ip := AddrID(ev.Addr)
	if !ev.Logon {
		counter := ev.Table
		if r.together {
			counter = 0
		}
		return append(args, "f", counter, ip, u, n, "", ""), nil
	}
	// Payloads share one buffer per batch; a slice stays valid when a later append moves the buffer.
	var err error
	start := len(r.buf)
	if r.buf, err = ev.Payload.AppendBinary(r.buf); err != nil {
		return args, err
	}
	payload := r.buf[start:len(r.buf):len(r.buf)]
	return append(args, "l", ev.Rule, ip, u, n, ev.Payload.Host(), payload), nil
}

// read decodes the script's reply: verdicts, alerts, counters and sizes.
func (r *Redis) read(res any, events []Event, out []Alert) ([]Alert, error) {
	reply, ok := res.([]any)
	if !ok || len(reply) != 7 {
		return out, fmt.Errorf("redis: unexpected reply %T", res)
	}
	verdicts, _ := reply[0].(string)
	if len(verdicts) != len(r.sent) {
		return out, fmt.Errorf("redis: %d verdicts for %d events", len(verdicts), len(r.sent))
	}
	for j, i := range r.sent {
		if verdicts[j] == 'l' {
			events[i].Verdict = window.Late
		}
	}
	alerts, _ := reply[1].([]any)
	for a := 0; a+10 <= len(alerts); a += 10 {
		f := alerts[a : a+10]
		idx := toInt(f[0])
		var l alert.Logon
		if idx >= 0 && idx < int64(len(r.sent)) {
			l = *events[r.sent[idx]].Payload
		} else {
			payload, _ := f[1].(string)
			if err := l.UnmarshalBinary([]byte(payload)); err != nil {
				r.counters.Errors++ // a corrupt waiting logon cannot alert; count it, keep the batch
				continue
			}
		}
		out = append(out, Alert{
			Payload: l, Addr: l.Addr, Host: l.Host(), Time: l.Time,
			Rule: int(toInt(f[2])), Table: int(toInt(f[3])), Counter: int(toInt(f[4])), Count: int(toInt(f[5])),
			First: join(toInt(f[6]), toInt(f[7])), Last: join(toInt(f[8]), toInt(f[9])),
		})
	}
	if s, _ := reply[2].([]any); len(s) == 7 {
		st := &r.counters.Stats
		st.EvictedIPs += toInt(s[0])
		st.EvictedLogons += toInt(s[1])
		st.Suppressed += toInt(s[2])
		st.ExpiredIPs += toInt(s[3])
		st.ExpiredLogons += toInt(s[4])
		st.FailuresCompacted += toInt(s[5])
		st.EvictedSuppress += toInt(s[6])
	}
	r.ips, r.logons = int(toInt(reply[3])), int(toInt(reply[4]))
	r.clock = join(toInt(reply[5]), toInt(reply[6]))
	return out, nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

// split turns Unix nanoseconds into whole microseconds (floored) and the nanoseconds below them.
func split(t int64) (u, n int64) {
	u, n = t/1000, t%1000
	if n < 0 {
		u, n = u-1, n+1000
	}
	return u, n
}

func join(u, n int64) int64 { return u*1000 + n }

// Ping checks that the server answers, within the timeout.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.client.Ping(ctx).Err()
}

// Sizes implements Backend: the fleet's tracked IPs and waiting logons as of the last batch.
func (r *Redis) Sizes() (int, int) { return r.ips, r.logons }

// Counters implements Backend.
func (r *Redis) Counters() Counters { return r.counters }

// Clock returns the fleet's clock (the largest event time accepted by any collector) as of the
// last batch.
func (r *Redis) Clock() int64 { return r.clock }

// RoundTrips returns how many requests were sent to Redis (one per batch, two when the server had
// forgotten the script) and how many of them carried the script itself.
func (r *Redis) RoundTrips() (requests, scriptSent int64) { return r.roundTrips, r.scriptSent }

// Close implements Backend.
func (r *Redis) Close(context.Context) error { return r.client.Close() }
