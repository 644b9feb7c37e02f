// Package loadmix builds the realistic mix of log records that the benchmarks run through the
// processor and the load generator (tools/cmd/loadgen) sends over OTLP: mostly application logs,
// some Entra ID sign-ins, sshd and Windows logons in the shapes the collector's receivers produce
// (built by internal/shapes),
// and a few attacks (more than five failed sign-ins from one address, then a host logon from it).
// Every event time is the moment its batch is built.
package loadmix

import (
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// Share of each kind of record, per thousand records of the mix. Application logs are 90%.
const (
	perMilleApp            = 900
	perMilleSignIn         = 30 // successful sign-ins (ResultType 0)
	perMilleFailedSignIn   = 25 // failed sign-ins from addresses that never log on to a host
	perMilleSSHDAccepted   = 10 // sshd "Accepted ..." logons
	perMilleSSHDOther      = 10 // other auth lines: failed passwords, PAM sessions
	perMilleWindowsLogon   = 20 // SecurityEvent 4624
	perMilleWindowsFailure = 5  // SecurityEvent 4625
)

// AttackFailures is how many failed sign-ins an attack makes before its logon: one more than the
// rule's default threshold of 5.
const AttackFailures = 6

// kind is one kind of record of the mix.
type kind uint8

const (
	kindApp kind = iota
	kindSignIn
	kindFailedSignIn
	kindSSHDAccepted
	kindSSHDOther
	kindWindowsLogon
	kindWindowsFailure
)

// kindByMille maps a number in [0, 1000) to a kind by the shares above.
var kindByMille = func() [1000]kind {
	var t [1000]kind
	shares := []struct {
		k kind
		n int
	}{
		{kindApp, perMilleApp}, {kindSignIn, perMilleSignIn}, {kindFailedSignIn, perMilleFailedSignIn},
		{kindSSHDAccepted, perMilleSSHDAccepted}, {kindSSHDOther, perMilleSSHDOther},
		{kindWindowsLogon, perMilleWindowsLogon}, {kindWindowsFailure, perMilleWindowsFailure},
	}
	i := 0
	for _, s := range shares {
		for range s.n {
			t[i] = s.k
			i++
		}
	}
	return t
}()

// The sources of the mix: each is one ResourceLogs of a batch, as a collector would receive them
// from several agents.
var (
	appServices  = []string{"checkout", "cart", "payments", "frontend"}
	linuxHosts   = []string{"web01", "web02", "bastion01", "db01"}
	windowsHosts = []string{"dc01.contoso.com", "fs01.contoso.com"}
	httpRoutes   = []string{"/api/v1/items", "/api/v1/cart", "/api/v1/orders/{id}", "/healthz"}
	users        = []string{"alice", "bob", "carol", "dave", "erin", "frank"}
)

const (
	srcApp     = 0
	srcSignIns = srcApp + 4 // len(appServices)
	srcLinux   = srcSignIns + 1
	srcWindows = srcLinux + 4 // len(linuxHosts)
	numSources = srcWindows + 2
)

// Mix builds batches of the realistic mix. A Mix is not safe for concurrent use: give each sender
// its own.
type Mix struct {
	batchSize   int
	attackEvery int // one attack per this many batches; 0 for none
	attackBase  uint32
	rng         *rand.Rand

	batches int64
	attacks int64
	// templates are batches built once and sent again by Next with new times and addresses
	templates []plog.Logs

	// per batch: the record slice of each source, created when the source first has a record
	sources [numSources]plog.LogRecordSlice
	have    [numSources]bool
	ld      plog.Logs
	now     pcommon.Timestamp
	nowText string
}

// NewMix returns a Mix of batchSize records per batch with one attack every attackEvery batches
// (0: no attacks). Mixes with different ids use different attacker addresses and random streams.
func NewMix(batchSize, attackEvery int, id uint32) *Mix {
	return &Mix{
		batchSize:   batchSize,
		attackEvery: attackEvery,
		attackBase:  id << 16,
		rng:         rand.New(rand.NewPCG(uint64(id)+1, 0x5eed)),
	}
}

// Attacks returns how many attacks the batches built so far carry.
func (m *Mix) Attacks() int64 { return m.attacks }

// Batch builds the next batch with event times now. It reports whether the batch carries an
// attack; an attack's addresses are never used by any other record of any Mix with another id.
func (m *Mix) Batch(now time.Time) (plog.Logs, bool) {
	m.begin(now)
	m.batches++

	n := m.batchSize
	attack := m.attackDue() && n >= AttackFailures+1
	if attack {
		ip := AttackerAddr(m.attackBase + uint32(m.attacks))
		m.attacks++
		for range AttackFailures {
			m.signIn("SigninLogs", ip, "50126")
		}
		if m.attacks%2 == 0 {
			m.windowsLogon(windowsHosts[0], ip, 10, 4624)
		} else {
			m.sshd(linuxHosts[0], "Accepted password for root from "+ip+" port "+m.port()+" ssh2")
		}
		n -= AttackFailures + 1
	}
	for range n {
		m.record(kindByMille[m.rng.IntN(1000)])
	}
	return m.ld, attack
}

func (m *Mix) attackDue() bool { return m.attackEvery > 0 && m.batches%int64(m.attackEvery) == 0 }

// numTemplates is how many batches Next builds once and then sends again.
const numTemplates = 4

// Next returns the next batch, like Batch, but cheaper: a batch with an attack is built anew, the
// others are one of a few batches built once, stamped again with now and given new addresses for
// their sign-ins and logons (building a batch costs about four times as much as encoding it, and
// the load generator is not to be the bottleneck). The batch returned may be changed by the next
// call.
func (m *Mix) Next(now time.Time) (plog.Logs, bool) {
	m.batches++
	due := m.attackDue()
	m.batches--
	if due || len(m.templates) < numTemplates {
		ld, attack := m.Batch(now)
		if !attack {
			m.templates = append(m.templates, ld)
		}
		return ld, attack
	}
	m.batches++
	ld := m.templates[m.batches%numTemplates]
	m.refresh(ld, now)
	return ld, false
}

// refresh stamps every record of a template with now and gives its sign-ins and host logons new
// addresses from their ranges.
func (m *Mix) refresh(ld plog.Logs, now time.Time) {
	ts := pcommon.NewTimestampFromTime(now)
	text := now.UTC().Format(time.RFC3339Nano)
	for _, rl := range ld.ResourceLogs().All() {
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				lr.SetTimestamp(ts)
				lr.SetObservedTimestamp(ts)
				a := lr.Attributes()
				if _, app := a.Get("url.path"); app {
					continue
				}
				if v, ok := a.Get("TimeGenerated"); ok {
					v.SetStr(text)
				}
				if v, ok := a.Get("IPAddress"); ok {
					if rt, _ := a.Get("ResultType"); rt.Str() == "0" {
						v.SetStr(m.userAddr())
					} else {
						v.SetStr(m.sprayAddr())
					}
				} else if v, ok := a.Get("IpAddress"); ok {
					if id, _ := a.Get("EventID"); id.Int() == 4624 {
						v.SetStr(m.userAddr())
					} else {
						v.SetStr(m.sprayAddr())
					}
				} else if v, ok := a.Get("message"); ok && strings.HasPrefix(v.Str(), "Accepted ") {
					v.SetStr("Accepted publickey for " + users[m.rng.IntN(len(users))] + " from " + m.userAddr() + " port " + m.port() + " ssh2")
				}
			}
		}
	}
}

// Attack returns the two batches of one attack from ip with event times now: AttackFailures
// failed sign-ins, then the deciding host logon (sshd, or a Windows 4624 of logon type 10 when
// windows is set).
func Attack(ip string, windows bool, now time.Time) (failures, logon plog.Logs) {
	m := NewMix(0, 0, 0)
	m.begin(now)
	for range AttackFailures {
		m.signIn("SigninLogs", ip, "50126")
	}
	failures = m.ld
	m.begin(now)
	if windows {
		m.windowsLogon(windowsHosts[0], ip, 10, 4624)
	} else {
		m.sshd(linuxHosts[0], "Accepted password for root from "+ip+" port "+m.port()+" ssh2")
	}
	return failures, m.ld
}

func (m *Mix) begin(now time.Time) {
	m.ld = plog.NewLogs()
	m.have = [numSources]bool{}
	m.now = pcommon.NewTimestampFromTime(now)
	m.nowText = now.UTC().Format(time.RFC3339Nano)
}

// AttackerAddr is the address of attack number i: 172.16.0.0/12, where no other record of the mix
// comes from.
func AttackerAddr(i uint32) string {
	return netip.AddrFrom4([4]byte{172, 16 + byte(i>>16&0x0f), byte(i >> 8), byte(i)}).String()
}

func (m *Mix) record(k kind) {
	switch k {
	case kindApp:
		m.app()
	case kindSignIn:
		table := "SigninLogs"
		if m.rng.IntN(4) == 0 {
			table = "AADNonInteractiveUserSignInLogs"
		}
		m.signIn(table, m.userAddr(), "0")
	case kindFailedSignIn:
		// Password sprays and typos: addresses of a range hosts never see logons from, so that
		// background failures cannot make an alert that no attack planted.
		codes := [...]string{"50126", "50053", "50074", "50055"}
		m.signIn("SigninLogs", m.sprayAddr(), codes[m.rng.IntN(len(codes))])
	case kindSSHDAccepted:
		host := linuxHosts[m.rng.IntN(len(linuxHosts))]
		method := "publickey"
		if m.rng.IntN(3) == 0 {
			method = "password"
		}
		m.sshd(host, "Accepted "+method+" for "+users[m.rng.IntN(len(users))]+" from "+m.userAddr()+" port "+m.port()+" ssh2")
	case kindSSHDOther:
		host := linuxHosts[m.rng.IntN(len(linuxHosts))]
		if m.rng.IntN(2) == 0 {
			m.sshd(host, "Failed password for invalid user admin from "+m.sprayAddr()+" port "+m.port()+" ssh2")
		} else {
			m.sshd(host, "pam_unix(sshd:session): session opened for user "+users[m.rng.IntN(len(users))]+"(uid=1000) by (uid=0)")
		}
	case kindWindowsLogon:
		logonTypes := [...]int64{3, 3, 3, 10, 2, 5}
		m.windowsLogon(windowsHosts[m.rng.IntN(len(windowsHosts))], m.userAddr(), logonTypes[m.rng.IntN(len(logonTypes))], 4624)
	case kindWindowsFailure:
		m.windowsLogon(windowsHosts[m.rng.IntN(len(windowsHosts))], m.sprayAddr(), 3, 4625)
	}
}

// userAddr is where legitimate users come from: 100.64.0.0/10, one in ten IPv6.
func (m *Mix) userAddr() string {
	r := m.rng.Uint32()
	if r%10 == 0 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x00, 0x64, 12: byte(r >> 24), 13: byte(r >> 16), 14: byte(r >> 8), 15: byte(r)}).String()
	}
	return netip.AddrFrom4([4]byte{100, 64 | byte(r>>16)&0x3f, byte(r >> 8), byte(r)}).String()
}

// sprayAddr is where failed sign-ins come from: 198.18.0.0/15, one in ten IPv6.
func (m *Mix) sprayAddr() string {
	r := m.rng.Uint32()
	if r%10 == 0 {
		return netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0x01, 0x98, 12: byte(r >> 24), 13: byte(r >> 16), 14: byte(r >> 8), 15: byte(r)}).String()
	}
	return netip.AddrFrom4([4]byte{198, 18 | byte(r>>16)&1, byte(r >> 8), byte(r)}).String()
}

func (m *Mix) port() string { return strconv.Itoa(1024 + m.rng.IntN(64511)) }

// source returns the record slice of source i in the current batch, creating its ResourceLogs.
func (m *Mix) source(i int) plog.LogRecordSlice {
	if m.have[i] {
		return m.sources[i]
	}
	rl := m.ld.ResourceLogs().AppendEmpty()
	res := rl.Resource().Attributes()
	sl := rl.ScopeLogs().AppendEmpty()
	switch {
	case i < srcSignIns:
		res.PutStr("service.name", appServices[i-srcApp])
		res.PutStr("service.namespace", "shop")
		res.PutStr("k8s.namespace.name", "shop")
		res.PutStr("k8s.pod.name", appServices[i-srcApp]+"-7d9f8c6b5-x2x4q")
		res.PutStr("host.name", "node-"+strconv.Itoa(i-srcApp+1))
		sl.Scope().SetName("github.com/example/shop/" + appServices[i-srcApp])
	case i == srcSignIns:
		res.PutStr("cloud.provider", "azure")
		res.PutStr("cloud.account.id", "00000000-0000-0000-0000-000000000000")
	case i < srcWindows:
		res.PutStr("host.name", linuxHosts[i-srcLinux])
	default:
		res.PutStr("host.name", windowsHosts[i-srcWindows])
		res.PutStr("os.type", "windows")
	}
	m.sources[i] = sl.LogRecords()
	m.have[i] = true
	return m.sources[i]
}

func (m *Mix) newRecord(src int) plog.LogRecord {
	lr := m.source(src).AppendEmpty()
	lr.SetTimestamp(m.now)
	lr.SetObservedTimestamp(m.now)
	return lr
}

// app adds an application log record: a few attributes and a string body.
func (m *Mix) app() {
	svc := m.rng.IntN(len(appServices))
	lr := m.newRecord(srcApp + svc)
	route := httpRoutes[m.rng.IntN(len(httpRoutes))]
	status := 200
	if m.rng.IntN(50) == 0 {
		status = 500
	}
	client := m.userAddr()
	shapes.App{Service: appServices[svc], Route: route, Status: status, Millis: 1 + m.rng.IntN(300), ClientAddr: client}.Fill(lr)
}

// signIn adds a sign-in in the Sentinel SigninLogs schema (an export replay or a script).
func (m *Mix) signIn(table, ip, resultType string) {
	lr := m.newRecord(srcSignIns)
	shapes.SignIn{Table: table, Addr: ip, Result: resultType, User: users[m.rng.IntN(len(users))] + "@contoso.com",
		App: "Azure Portal", ClientApp: "Browser", Location: "NL", Time: m.now.AsTime()}.Fill(lr)
}

// sshd adds an auth line as the syslog receiver emits it (RFC 3164, facility auth): its attributes,
// without the line as body, since Next rewrites the message in place.
func (m *Mix) sshd(host, message string) {
	var src int
	for i, h := range linuxHosts {
		if h == host {
			src = srcLinux + i
		}
	}
	lr := m.newRecord(src)
	shapes.Syslog{Shape: shapes.SyslogReceiver, Place: shapes.InAttributes, Host: host, PID: 1000 + m.rng.IntN(60000),
		Message: message}.Fill(lr)
	lr.SetTimestamp(m.now) // the receiver's RFC 3164 time has whole seconds; the mix's event times do not
	lr.SetSeverityNumber(plog.SeverityNumberInfo)
	lr.SetSeverityText("info")
}

// windowsLogon adds a SecurityEvent 4624 (or 4625) in the Sentinel schema.
func (m *Mix) windowsLogon(computer, ip string, logonType, eventID int64) {
	src := srcWindows
	if computer == windowsHosts[1] {
		src++
	}
	lr := m.newRecord(src)
	shapes.Windows{EventID: int(eventID), LogonType: int(logonType), Addr: ip, Computer: computer, User: users[m.rng.IntN(len(users))],
		Numbers: true, Time: m.now.AsTime()}.Fill(lr)
}
