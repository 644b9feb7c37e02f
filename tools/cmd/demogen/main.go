// Command demogen writes the demo data of examples/demo: fifteen minutes of one morning as three files,
//
//   - auth.log: the auth facility of three Linux hosts as a central rsyslog server writes it
//     (Debian 12 default file format: RFC 3339 timestamp, no PRI),
//   - signins.jsonl: Entra ID sign-in logs as Azure diagnostic settings export them (categories
//     SignInLogs and NonInteractiveUserSignInLogs), one JSON object a line,
//   - securityevents.jsonl: Windows security events in Microsoft Sentinel's SecurityEvent shape.
//
// The output is deterministic (fixed seed, fixed day); examples/demo/EXPECTED.md lists the alerts it
// must produce. Run from the tools folder: go run ./cmd/demogen -out ../examples/demo (make demo-data)
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/secops-otel/aadhostlogincorrelation/internal/shapes"
)

// The demo morning. A fixed day in the past, so a replay never looks like it comes from the future.
var day = time.Date(2026, time.November, 24, 8, 50, 0, 0, time.UTC)

// at returns the demo day's time at minute m, second s (minutes after 08:50), plus a random fraction
// of a second.
func (d *demo) at(m, s int) time.Time {
	fraction := time.Duration(d.rnd.IntN(1_000_000)) * time.Microsecond
	return day.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second + fraction)
}

// Addresses, all from documentation ranges (RFC 5737, RFC 3849) or private space.
const (
	sprayer     = "203.0.113.45"      // password spray, then SSH into web01 as deploy
	intruder    = "198.51.100.77"     // both sign-in tables, then SSH into db01 and SMB to WIN-FS01
	intruderV6  = "2001:db8:4b1d::66" // RDP into WIN-JUMP01, its failed sign-ins arrive after the logon
	office      = "192.0.2.10"        // exactly 5 failures: at the threshold, not over it
	branch      = "192.0.2.20"        // 4 + 4 failures across the two tables: no table over 5
	interrupted = "192.0.2.30"        // many 50140 / 50125 interrupts, which are not failures
	vpn         = "10.20.0.15"        // admins over the VPN, no sign-ins at all
	guesser     = "198.51.100.140"    // guesses SSH passwords on bastion01, then signs in to Entra ID
	traveller   = "198.51.100.160"    // 3 failed RDP and 3 failed SSH logons, then signs in: per source, neither is over 5
)

func main() {
	out := flag.String("out", "examples/demo", "directory to write auth.log, signins.jsonl and securityevents.jsonl to")
	flag.Parse()
	d := newDemo()
	d.build()
	check(os.MkdirAll(*out, 0o755))
	check(d.writeAuthLog(filepath.Join(*out, "auth.log")))
	check(writeJSONLines(filepath.Join(*out, "signins.jsonl"), d.signIns,
		func(s shapes.SignIn) string { return s.Time.Format("2006-01-02T15:04:05.0000000Z") }, shapes.SignIn.Line))
	check(writeJSONLines(filepath.Join(*out, "securityevents.jsonl"), d.securityEvents,
		func(w shapes.Windows) string { return w.Time.Format("2006-01-02T15:04:05.000Z") }, shapes.Windows.Line))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

type demo struct {
	rnd            *rand.Rand
	authLines      []shapes.Syslog
	signIns        []shapes.SignIn
	securityEvents []shapes.Windows
	pids           map[string]int
	sessions       map[string]int
}

func newDemo() *demo {
	return &demo{
		rnd:      rand.New(rand.NewPCG(20261124, 8)),
		pids:     map[string]int{"web01": 21870, "db01": 4410, "bastion01": 118200},
		sessions: map[string]int{"web01": 4310, "db01": 902, "bastion01": 77120},
	}
}

func (d *demo) build() {
	d.background()
	d.scenarioSprayer()
	d.scenarioIntruder()
	d.scenarioIntruderV6()
	d.scenarioBenign()
	// Scenarios of the second rule come last: the random draws of the ones above, and so their
	// records, stay what they were before these were added.
	d.scenarioHostBruteForce()
	d.scenarioTraveller()
}

// ---------------------------------------------------------------------------------------------------
// auth.log

// sshdProcess is the OpenSSH per-connection process name: db01 runs OpenSSH 9.8+, where it is
// sshd-session.
func sshdProcess(host string) string {
	if host == "db01" {
		return "sshd-session"
	}
	return "sshd"
}

func (d *demo) pid(host string) int {
	d.pids[host] += 1 + d.rnd.IntN(40)
	return d.pids[host]
}

// auth adds a line of process[pid] (pid -1: none) to auth.log: the shapes package's auth.log line.
func (d *demo) auth(t time.Time, host, process string, pid int, msg string) {
	d.authLines = append(d.authLines, shapes.Syslog{Shape: shapes.AuthLogFile, Host: host, Process: process, PID: pid, Message: msg, Time: t})
}

// sshLogon writes an accepted SSH logon, its session and its end, as OpenSSH, PAM and logind log them.
func (d *demo) sshLogon(t time.Time, host, user string, uid int, addr, method string, length time.Duration) {
	pid, proc := d.pid(host), sshdProcess(host)
	port := 40000 + d.rnd.IntN(25000)
	d.sessions[host]++
	session := d.sessions[host]
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	switch method {
	case "publickey":
		d.auth(t, host, proc, pid, shapes.SSHD{Method: "publickey", User: user, Addr: addr, Port: port, Extra: "ED25519 SHA256:" + d.fingerprint()}.String())
	default:
		d.auth(t, host, proc, pid, shapes.SSHD{User: user, Addr: addr, Port: port}.String())
	}
	d.auth(t.Add(ms(9)), host, proc, pid, shapes.SessionOpened("sshd", user, uid, user, 0))
	d.auth(t.Add(ms(21)), host, "systemd-logind", 612, fmt.Sprintf("New session %d of user %s.", session, user))
	end := t.Add(length)
	d.auth(end, host, proc, pid, shapes.ReceivedDisconnect(addr, port, "disconnected by user"))
	d.auth(end.Add(ms(1)), host, proc, pid, shapes.Disconnected(user, addr, port, false))
	d.auth(end.Add(ms(3)), host, proc, pid, shapes.SessionClosed("sshd", user))
	d.auth(end.Add(ms(14)), host, "systemd-logind", 612, fmt.Sprintf("Session %d logged out. Waiting for processes to exit.", session))
	d.auth(end.Add(ms(30)), host, "systemd-logind", 612, fmt.Sprintf("Removed session %d.", session))
}

// sshFailures writes failed password attempts for an existing user on one connection.
func (d *demo) sshFailures(t time.Time, host, user, addr string, attempts int) {
	pid, proc := d.pid(host), sshdProcess(host)
	port := 40000 + d.rnd.IntN(25000)
	d.auth(t, host, proc, pid, shapes.PAMAuthFailure(addr, user))
	for i := range attempts {
		d.auth(t.Add(time.Duration(2+3*i)*time.Second), host, proc, pid, shapes.SSHD{Event: "Failed", User: user, Addr: addr, Port: port}.String())
	}
	d.auth(t.Add(time.Duration(3+3*attempts)*time.Second), host, proc, pid, shapes.ConnectionClosed("authenticating user "+user, addr, port))
}

// scannerProbe writes an internet scanner trying a user that does not exist.
func (d *demo) scannerProbe(t time.Time, host, addr, user string) {
	pid, proc := d.pid(host), sshdProcess(host)
	port := 30000 + d.rnd.IntN(35000)
	d.auth(t, host, proc, pid, shapes.InvalidUser(user, addr, port))
	d.auth(t.Add(210*time.Millisecond), host, proc, pid, shapes.PAMUnknownUser())
	d.auth(t.Add(212*time.Millisecond), host, proc, pid, shapes.PAMAuthFailure(addr, ""))
	d.auth(t.Add(2*time.Second), host, proc, pid, shapes.SSHD{Event: "Failed", InvalidUser: true, User: user, Addr: addr, Port: port}.String())
	d.auth(t.Add(2*time.Second+400*time.Millisecond), host, proc, pid, shapes.ReceivedDisconnect(addr, port, "Bye Bye [preauth]"))
	d.auth(t.Add(2*time.Second+401*time.Millisecond), host, proc, pid, shapes.Disconnected("invalid user "+user, addr, port, true))
}

func (d *demo) sudo(t time.Time, host, user, command string) {
	d.auth(t, host, "sudo", -1, shapes.SudoCommand(user, command))
	d.auth(t.Add(4*time.Millisecond), host, "sudo", -1, shapes.SessionOpened("sudo", "root", 0, user, 1001))
	d.auth(t.Add(900*time.Millisecond), host, "sudo", -1, shapes.SessionClosed("sudo", "root"))
}

func (d *demo) fingerprint() string {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var sb strings.Builder
	for range 43 {
		sb.WriteByte(b64[d.rnd.IntN(len(b64))])
	}
	return sb.String()
}

func (d *demo) writeAuthLog(path string) error {
	slices.SortStableFunc(d.authLines, func(a, b shapes.Syslog) int { return a.Time.Compare(b.Time) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range d.authLines {
		// rsyslog's RSYSLOG_FileFormat (Debian 12 default): RFC 3339 with microseconds, no PRI.
		if _, err := fmt.Fprintln(w, l.Line()); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// ---------------------------------------------------------------------------------------------------
// Entra ID sign-in logs (Azure diagnostic settings export)

const tenantID = "6f1c2a9e-3b7d-4e8a-9c51-0d2e4f6a8b13"

type user struct{ upn, name, id string }

var users = []user{
	{"alice.jones@contoso.com", "Alice Jones", "0b7c1f6e-7f3a-4c71-9a43-61e2d0a5b201"},
	{"bob.smith@contoso.com", "Bob Smith", "2d9e4a10-5c8b-4f2e-8d17-3a6f9b0c4e22"},
	{"carol.white@contoso.com", "Carol White", "41f0b3c7-9e2d-4a58-b6c1-7d8e2f3a5b43"},
	{"dave.brown@contoso.com", "Dave Brown", "63a8d5e9-1b4c-4d7f-a2e3-9f0b4c6d7e64"},
	{"erin.clark@contoso.com", "Erin Clark", "85c2f7a1-3d6e-4f9b-b4a5-1b2d6e8f9a85"},
	{"frank.lee@contoso.com", "Frank Lee", "a7e4b9c3-5f8a-4b1d-86c7-3d4f8a0b1ca6"},
	{"grace.kim@contoso.com", "Grace Kim", "c9f6d1e5-7b2c-4d3f-a8e9-5f6b2c3d4ec7"},
	{"svc-deploy@contoso.com", "Deployment Service", "e1b8f3a7-9d4e-4f5b-9a1b-7b8d4e5f6ae8"},
}

type app struct{ id, name, resource, resourceID string }

var (
	azurePortal = app{"c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal", "Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"}
	officeHome  = app{"4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome", "Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"}
	azureCLI    = app{"04b07795-8ddb-461a-bbee-02f9e1bf7b46", "Microsoft Azure CLI", "Windows Azure Service Management API", "797f4846-ba00-4fd7-ba43-dac1f8f63013"}
	aadPS       = app{"1b730954-1685-4b74-9bfd-dac224a7b894", "Azure Active Directory PowerShell", "Windows Azure Active Directory", "00000002-0000-0000-c000-000000000000"}
	msOffice    = app{"d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office", "Microsoft Graph", "00000003-0000-0000-c000-000000000000"}
	teams       = app{"1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams", "Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe"}
	outlook     = app{"27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile", "Office 365 Exchange Online", "00000002-0000-0ff1-ce00-000000000000"}
)

type where struct {
	city, state, country string
	lat, lon             float64
}

var (
	amsterdam = where{"Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041}
	rotterdam = where{"Rotterdam", "Zuid-Holland", "NL", 51.9244, 4.4777}
	frankfurt = where{"Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821}
	bucharest = where{"Bucharest", "Bucuresti", "RO", 44.4268, 26.1025}
	singapore = where{"Singapore", "Singapore", "SG", 1.3521, 103.8198}
	saoPaulo  = where{"Sao Paulo", "Sao Paulo", "BR", -23.5505, -46.6333}
	lisbon    = where{"Lisbon", "Lisboa", "PT", 38.7223, -9.1393}
)

const (
	edgeUA    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0"
	officeUA  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; WebView/3.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19045"
	pythonUA  = "python-requests/2.32.3"
	azCLIUA   = "python/3.12.8 (Linux-6.1.0-28-amd64-x86_64-with-glibc2.36) AzureCli/2.67.0"
	outlookUA = "Outlook-iOS/2.0"
)

type signIn struct {
	t           time.Time
	interactive bool
	addr        string
	who         user
	app         app
	result      int
	ua          string
	os, browser string
	where       where
}

func (d *demo) guid() string {
	a, b := d.rnd.Uint64(), d.rnd.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", uint32(a>>32), uint16(a>>16), uint16(a)&0xfff, uint16(b>>48)&0x3fff|0x8000, b&0xffffffffffff)
}

// signIn adds the sign-in as diagnostic settings export it: the shapes package's record, with this
// morning's ids, client and place.
func (d *demo) signIn(s signIn) {
	table, clientApp := shapes.SigninLogs, "Browser"
	if !s.interactive {
		table, clientApp = shapes.AADNonInteractiveUserSignInLogs, "Mobile Apps and Desktop clients"
	}
	if s.ua == pythonUA || s.ua == azCLIUA {
		clientApp = "Mobile Apps and Desktop clients"
	}
	// The random draws in the order the data was first generated with.
	correlation := d.guid()
	id := d.guid()
	processing := 40 + d.rnd.IntN(200)
	request := d.guid()
	token := strings.TrimRight(d.fingerprint()[:22], "+/")
	d.signIns = append(d.signIns, shapes.SignIn{
		Shape: shapes.DiagnosticSignIn, Table: table, Addr: s.addr, Result: fmt.Sprint(s.result), User: s.who.upn,
		App: s.app.name, UserDisplayName: s.who.name, ClientApp: clientApp, Location: s.where.country, Time: s.t,
		Detail: shapes.SignInDetail{
			TenantID: tenantID, ID: id, CorrelationID: correlation, OriginalRequestID: request, UniqueTokenIdentifier: token,
			UserID: s.who.id, AppID: s.app.id, ResourceDisplayName: s.app.resource, ResourceID: s.app.resourceID,
			UserAgent: s.ua, OperatingSystem: s.os, Browser: s.browser,
			City: s.where.city, State: s.where.state, Latitude: s.where.lat, Longitude: s.where.lon,
			ProcessingMillis: processing,
		},
	})
}

// ---------------------------------------------------------------------------------------------------
// Windows security events (Microsoft Sentinel SecurityEvent)

const domainSID = "S-1-5-21-3623811015-3361044348-30300820"

type windowsHost struct{ computer, vm string }

var (
	winFS01   = windowsHost{"WIN-FS01.corp.contoso.com", "win-fs01"}
	winJump01 = windowsHost{"WIN-JUMP01.corp.contoso.com", "win-jump01"}
	winDC01   = windowsHost{"WIN-DC01.corp.contoso.com", "win-dc01"}
)

type windowsLogon struct {
	t           time.Time
	host        windowsHost
	user        string // sAMAccountName; a trailing $ is a machine account
	rid         int
	logonType   int
	addr        string // "-" when the logon has no network source
	workstation string
}

// windowsEvent adds the event as Sentinel's SecurityEvent table has it: the shapes package's row,
// with this domain's tenant, machine and account ids.
func (d *demo) windowsEvent(w shapes.Windows, h windowsHost) {
	w.Computer, w.Time = h.computer, w.Time.UTC()
	w.Detail.TenantID = tenantID
	w.Detail.ResourceID = "/subscriptions/9b2e4c61-0d3f-4a7e-8c15-2f6a9d0b3e47/resourcegroups/rg-corp-servers/providers/microsoft.compute/virtualmachines/" + h.vm
	d.securityEvents = append(d.securityEvents, w)
}

// targetLogonID is a new logon session's id.
func (d *demo) targetLogonID() string { return fmt.Sprintf("0x%x", 0x3000000+d.rnd.IntN(0xfffff)) }

func (d *demo) logon4624(l windowsLogon) {
	w := shapes.Windows{EventID: 4624, LogonType: l.logonType, Addr: l.addr, User: l.user, Domain: "CONTOSO", Time: l.t,
		Detail: shapes.WindowsDetail{TargetUserSid: fmt.Sprintf("%s-%d", domainSID, l.rid), Workstation: l.workstation}}
	// The random draws in the order the data was first generated with.
	if l.addr != "-" && l.addr != "127.0.0.1" {
		w.Detail.IpPort = fmt.Sprint(49152 + d.rnd.IntN(16000))
	}
	switch l.logonType {
	case 10, 2, 7:
		w.Detail.LogonGUID = "{" + d.guid() + "}"
	}
	w.Detail.TargetLogonID = d.targetLogonID()
	d.windowsEvent(w, l.host)
}

func (d *demo) failedLogon4625(t time.Time, h windowsHost, user, addr string, logonType int) {
	// A name typed without a domain: Account \name.
	d.windowsEvent(shapes.Windows{EventID: 4625, LogonType: logonType, Addr: addr, User: user, Domain: "-", Time: t,
		Detail: shapes.WindowsDetail{IpPort: fmt.Sprint(49152 + d.rnd.IntN(16000))}}, h)
}

func (d *demo) logoff4634(t time.Time, h windowsHost, user string, rid, logonType int) {
	d.windowsEvent(shapes.Windows{EventID: 4634, LogonType: logonType, User: user, Domain: "CONTOSO", Time: t,
		Detail: shapes.WindowsDetail{TargetUserSid: fmt.Sprintf("%s-%d", domainSID, rid), TargetLogonID: d.targetLogonID()}}, h)
}

func (d *demo) specialPrivileges4672(t time.Time, h windowsHost, user string, rid int) {
	d.windowsEvent(shapes.Windows{EventID: 4672, User: user, Domain: "CONTOSO", Time: t,
		Detail: shapes.WindowsDetail{TargetUserSid: fmt.Sprintf("%s-%d", domainSID, rid), SubjectLogonID: d.targetLogonID(),
			PrivilegeList: "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeDebugPrivilege"}}, h)
}

// ---------------------------------------------------------------------------------------------------
// The morning

// background is the noise every morning has: cron, scanners, colleagues signing in, Windows machine
// and service logons.
func (d *demo) background() {
	for m := range 15 {
		for _, h := range []string{"web01", "db01", "bastion01"} {
			pid := d.pid(h)
			t := d.at(m, 1).Add(time.Duration(d.rnd.IntN(300)) * time.Millisecond)
			d.auth(t, h, "CRON", pid, shapes.SessionOpened("cron", "root", 0, "root", 0))
			d.auth(t.Add(time.Duration(80+d.rnd.IntN(900))*time.Millisecond), h, "CRON", pid, shapes.SessionClosed("cron", "root"))
		}
	}
	// Internet scanners knock on bastion01 (they never sign in to Entra ID).
	names := []string{"admin", "ubuntu", "test", "oracle", "git", "postgres", "user", "ftpuser", "pi", "steam", "hadoop", "minecraft"}
	for i := range 26 {
		addr := fmt.Sprintf("203.0.113.%d", 100+d.rnd.IntN(90))
		d.scannerProbe(d.at(0, 17).Add(time.Duration(i)*33*time.Second+time.Duration(d.rnd.IntN(9000))*time.Millisecond), "bastion01", addr, names[d.rnd.IntN(len(names))])
	}
	// Colleagues at the office and branch sign in (mostly successfully) all morning.
	spots := []struct {
		addr  string
		where where
	}{{"192.0.2.11", amsterdam}, {"192.0.2.12", amsterdam}, {"192.0.2.21", rotterdam}, {"192.0.2.40", amsterdam}}
	for i := range 40 {
		s := spots[d.rnd.IntN(len(spots))]
		who := users[d.rnd.IntN(len(users)-1)]
		interactive := d.rnd.IntN(3) == 0
		a, ua, osName, browser := officeHome, edgeUA, "Windows10", "Edge 131.0.0"
		if !interactive {
			a, ua, browser = []app{msOffice, teams, outlook}[d.rnd.IntN(3)], officeUA, ""
			if a == outlook {
				ua, osName = outlookUA, "Ios 18.1.1"
			}
		}
		d.signIn(signIn{t: d.at(0, 0).Add(time.Duration(i)*22*time.Second + time.Duration(d.rnd.IntN(20000))*time.Millisecond),
			interactive: interactive, addr: s.addr, who: who, app: a, result: 0, ua: ua, os: osName, browser: browser, where: s.where})
	}
	// Windows: service logons, the domain controller's machine logons, an unlock at the console.
	for m := 0; m < 15; m += 3 {
		d.logon4624(windowsLogon{t: d.at(m, 12), host: winFS01, user: "SYSTEM", logonType: 5, addr: "-"})
		d.logon4624(windowsLogon{t: d.at(m, 40), host: winFS01, user: "WIN-DC01$", rid: 1000, logonType: 3, addr: "10.0.0.4", workstation: "-"})
		d.logoff4634(d.at(m, 41), winFS01, "WIN-DC01$", 1000, 3)
	}
	d.logon4624(windowsLogon{t: d.at(6, 5), host: winJump01, user: "grace.kim", rid: 1188, logonType: 7, addr: "127.0.0.1", workstation: "WIN-JUMP01"})
	d.logon4624(windowsLogon{t: d.at(9, 30), host: winDC01, user: "svc-backup", rid: 1107, logonType: 3, addr: "10.0.0.21", workstation: "WIN-FS01"})
}

// scenarioSprayer: 203.0.113.45 sprays passwords at Entra ID (8 interactive failures, 3 non-interactive),
// then logs in to web01 over SSH as deploy, whose password it guessed. One alert: SigninLogs on web01.
func (d *demo) scenarioSprayer() {
	results := []int{50126, 50126, 50126, 50053, 50126, 50126, 50053, 50126}
	for i, r := range results {
		d.signIn(signIn{t: d.at(1, 5).Add(time.Duration(i)*37*time.Second + time.Duration(d.rnd.IntN(3000))*time.Millisecond),
			interactive: true, addr: sprayer, who: users[i%len(users)], app: aadPS, result: r, ua: pythonUA, os: "", browser: "", where: bucharest})
	}
	for i := range 3 {
		d.signIn(signIn{t: d.at(6, 10).Add(time.Duration(i) * 41 * time.Second),
			interactive: false, addr: sprayer, who: users[7], app: azureCLI, result: 50126, ua: azCLIUA, os: "Linux", where: bucharest})
	}
	// It tries SSH on web01 a few times, then gets in.
	d.sshFailures(d.at(7, 2), "web01", "deploy", sprayer, 2)
	d.sshLogon(d.at(8, 14), "web01", "deploy", 1001, sprayer, "password", 4*time.Minute+12*time.Second)
	// Not a logon: sudo is excluded by the rule even though its line has "Accepted" and the address.
	d.sudo(d.at(9, 40), "web01", "deploy", "/usr/bin/grep -c Accepted.*from.203.0.113.45 /var/log/auth.log")
	// And a failed RDP attempt on WIN-JUMP01: 4625 is not a logon.
	d.failedLogon4625(d.at(10, 3), winJump01, "administrator", sprayer, 3)
}

// scenarioIntruder: 198.51.100.77 fails 6 times interactively and 7 times non-interactively, then
// logs in to db01 (OpenSSH 9.8: sshd-session) and over SMB to WIN-FS01 (an IPv4-mapped IPv6 address
// in the event). Four alerts: both tables on db01 and on WIN-FS01.
func (d *demo) scenarioIntruder() {
	for i := range 6 {
		d.signIn(signIn{t: d.at(2, 0).Add(time.Duration(i)*29*time.Second + time.Duration(d.rnd.IntN(2000))*time.Millisecond),
			interactive: true, addr: intruder, who: users[1], app: azurePortal, result: 50126, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: frankfurt})
	}
	for i, r := range []int{50126, 50126, 50126, 50055, 50126, 50126, 50053} {
		d.signIn(signIn{t: d.at(5, 0).Add(time.Duration(i)*31*time.Second + time.Duration(d.rnd.IntN(2000))*time.Millisecond),
			interactive: false, addr: intruder, who: users[1], app: msOffice, result: r, ua: officeUA, os: "Windows10", where: frankfurt})
	}
	d.sshLogon(d.at(10, 2), "db01", "postgres", 114, intruder, "publickey", 2*time.Minute+40*time.Second)
	smb := d.at(11, 30)
	d.logon4624(windowsLogon{t: smb, host: winFS01, user: "svc-backup", rid: 1107, logonType: 3, addr: "::ffff:" + intruder, workstation: "KALI"})
	d.specialPrivileges4672(smb.Add(2*time.Millisecond), winFS01, "svc-backup", 1107)
	d.logoff4634(d.at(13, 2), winFS01, "svc-backup", 1107, 3)
}

// scenarioIntruderV6: 2001:db8:4b1d::66 logs in to WIN-JUMP01 over RDP at 09:00; its 6 failed
// non-interactive sign-ins are logged minutes later. One alert: AADNonInteractiveUserSignInLogs on
// WIN-JUMP01, raised when the sixth failure arrives. Two interactive failures are under the threshold.
func (d *demo) scenarioIntruderV6() {
	d.logon4624(windowsLogon{t: d.at(10, 0), host: winJump01, user: "erin.clark", rid: 1142, logonType: 10, addr: intruderV6, workstation: "DESKTOP-7Q2K9LM"})
	for i := range 6 {
		d.signIn(signIn{t: d.at(11, 0).Add(time.Duration(i)*23*time.Second + time.Duration(d.rnd.IntN(2000))*time.Millisecond),
			interactive: false, addr: intruderV6, who: users[4], app: teams, result: 50126, ua: officeUA, os: "Windows10", where: singapore})
	}
	for i := range 2 {
		d.signIn(signIn{t: d.at(12, 30).Add(time.Duration(i) * 50 * time.Second),
			interactive: true, addr: intruderV6, who: users[4], app: officeHome, result: 50126, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: singapore})
	}
}

// scenarioBenign: logons from addresses with failed sign-ins that must NOT alert.
func (d *demo) scenarioBenign() {
	// office: exactly 5 failures (3 wrong passwords, 2 MFA required) among successes; 5 is not > 5.
	for i, r := range []int{50126, 0, 50074, 0, 50126, 50140, 0, 50074, 50126, 0, 0} {
		d.signIn(signIn{t: d.at(0, 30).Add(time.Duration(i) * 47 * time.Second),
			interactive: true, addr: office, who: users[0], app: officeHome, result: r, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: amsterdam})
	}
	d.sshLogon(d.at(3, 44), "web01", "alice", 1002, office, "publickey", 9*time.Minute)
	d.sudo(d.at(5, 2), "web01", "alice", "/usr/bin/systemctl reload nginx")

	// branch: 4 interactive and 4 non-interactive failures; counted per table neither is over 5.
	for i := range 4 {
		d.signIn(signIn{t: d.at(1, 0).Add(time.Duration(i) * 53 * time.Second),
			interactive: true, addr: branch, who: users[2], app: azurePortal, result: 50126, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: rotterdam})
		d.signIn(signIn{t: d.at(4, 0).Add(time.Duration(i) * 61 * time.Second),
			interactive: false, addr: branch, who: users[2], app: outlook, result: 50126, ua: outlookUA, os: "Ios 18.1.1", where: rotterdam})
	}
	d.signIn(signIn{t: d.at(8, 0), interactive: true, addr: branch, who: users[2], app: azurePortal, result: 0, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: rotterdam})
	d.sshLogon(d.at(9, 1), "db01", "carol", 1003, branch, "publickey", 3*time.Minute)
	d.logon4624(windowsLogon{t: d.at(9, 20), host: winFS01, user: "carol.white", rid: 1131, logonType: 3, addr: branch, workstation: "LT-CWHITE"})

	// interrupted: 7 sign-in interrupts (50140 keep-me-signed-in, 50125 password reset) are not failures.
	for i, r := range []int{50140, 50140, 50125, 50140, 50125, 50140, 50125, 0} {
		d.signIn(signIn{t: d.at(2, 30).Add(time.Duration(i) * 35 * time.Second),
			interactive: true, addr: interrupted, who: users[3], app: officeHome, result: r, ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: amsterdam})
	}
	d.sshLogon(d.at(7, 40), "bastion01", "dave", 1004, interrupted, "password", 2*time.Minute)
	d.logon4624(windowsLogon{t: d.at(8, 10), host: winJump01, user: "dave.brown", rid: 1150, logonType: 10, addr: interrupted, workstation: "LT-DBROWN"})

	// vpn: admins with no sign-ins at all.
	d.sshLogon(d.at(4, 20), "bastion01", "ops", 1010, vpn, "publickey", 6*time.Minute)
	d.sshLogon(d.at(12, 5), "db01", "ops", 1010, vpn, "publickey", 90*time.Second)
	d.logon4624(windowsLogon{t: d.at(5, 55), host: winJump01, user: "frank.lee", rid: 1160, logonType: 10, addr: vpn, workstation: "LT-FLEE"})
}

// scenarioHostBruteForce: 198.51.100.140 guesses frank's SSH password on bastion01, 6 failed passwords
// on two connections (sshd ends a connection after a few), and minutes later signs in to Entra ID as
// frank.lee with the password that works there. One alert of "Failed host logons but success logon
// to AzureAD": Syslog failures, the SigninLogs sign-in.
//
// Six, one over the threshold, and not more: the collector reads auth.log and the sign-ins file side
// by side, so the sign-in may be correlated before the later failed lines are read, and an alert
// counts the failures seen when it fires. With exactly six it can only fire once all six are in,
// so its FailedLogonCount is 6 in every run.
func (d *demo) scenarioHostBruteForce() {
	d.sshFailures(d.at(3, 10), "bastion01", "frank", guesser, 4)
	d.sshFailures(d.at(4, 5), "bastion01", "frank", guesser, 2)
	d.signIn(signIn{t: d.at(7, 48), interactive: true, addr: guesser, who: users[5], app: azurePortal, result: 0,
		ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: saoPaulo})
}

// scenarioTraveller: grace.kim in a hotel mistypes her password three times over RDP to WIN-JUMP01 and
// three times over SSH to bastion01, gets into WIN-JUMP01, and signs in to Entra ID. Failed host
// logons are counted per source: 3 SecurityEvent and 3 Syslog, neither over 5, so no alert.
func (d *demo) scenarioTraveller() {
	for i := range 3 {
		d.failedLogon4625(d.at(2, 15).Add(time.Duration(i)*9*time.Second), winJump01, "grace.kim", traveller, 10)
	}
	d.logon4624(windowsLogon{t: d.at(2, 52), host: winJump01, user: "grace.kim", rid: 1188, logonType: 10, addr: traveller, workstation: "LT-GKIM"})
	d.sshFailures(d.at(3, 30), "bastion01", "grace", traveller, 3)
	d.signIn(signIn{t: d.at(6, 20), interactive: true, addr: traveller, who: users[6], app: officeHome, result: 0,
		ua: edgeUA, os: "Windows10", browser: "Edge 131.0.0", where: lisbon})
}

// ---------------------------------------------------------------------------------------------------

// writeJSONLines writes one line of each record, in the order of their times.
func writeJSONLines[T any](path string, records []T, timeOf func(T) string, line func(T) string) error {
	slices.SortStableFunc(records, func(a, b T) int { return strings.Compare(timeOf(a), timeOf(b)) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, r := range records {
		if _, err := fmt.Fprintln(w, line(r)); err != nil {
			return err
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
