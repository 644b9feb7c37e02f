package classify

import (
	"fmt"
	"slices"
)

// Kind is an observation kind: what a record, or a record inside a wrapper, was recognised as.
// Observations are role-neutral: a kind says what happened ("a failed sign-in of SigninLogs", "a
// logon to a Linux host"), never whether a rule counts it as a failure or takes it as a success.
// The rules say that (internal/rules), by naming kinds.
//
// The classifier itself yields Unrelated, Wrapper and Rejected. Every other kind is declared, with
// Declare, by the classifier file that yields it, next to the code that recognises it; nothing
// else in the processor knows a kind by name. A kind's number is its place among the declarations:
// it holds within one process and is never written anywhere (what outlives the process names a kind
// by its name and source, see KindOf).
type Kind uint8

// The kinds of the classifier itself, the first three: an array indexed by Kind may rely on them.
const (
	// Unrelated records match no shape, or match one but are nothing a rule uses (a non-auth syslog
	// line, an EventID other than 4624...). They pass through untouched. It is the zero Kind: a
	// classifier that gives up on a record leaves it Unrelated.
	Unrelated Kind = iota
	// Wrapper is a record that holds several records (an Event Hubs message of diagnostic
	// settings, a CloudTrail log file). Classify says only that; Unwrap yields the records inside.
	Wrapper
	// Rejected records were recognised as one of the shapes but carry a value that cannot be used
	// (unparseable address, wrong type, ...). Observation.Reject says why. They pass through untouched.
	Rejected
)

// MaxKinds bounds the kinds that can be declared: arrays indexed by Kind have MaxKinds entries.
const MaxKinds = 64

// KindSpec is what a classifier file declares about a kind it yields.
type KindSpec struct {
	// Name is the value of the telemetry attribute "kind" that records of the kind count under
	// ("failed_signin"). Several kinds may share one: the failed sign-ins of both tables are
	// failed_signin.
	Name string
	// Source is the Sentinel table the kind's records live in ("SigninLogs", "Syslog"): how an
	// alert names the failure source that crossed a threshold, and the table of a success. It is
	// "" for a kind of no one table. Name and Source together name one kind, also in what outlives
	// the process (the encoding of a waiting success).
	Source string
	// Columns name the kind's payload, in the order Observation.Cols holds it: the fields an alert
	// on an observation of the kind may project, which a success keeps while it waits for failures
	// (in memory, in checkpoints and in Redis, encoded by internal/alert for any kind alike). A ""
	// column is never filled. At most MaxColumns.
	Columns []string
	// Host names the column that holds the host the observation happened on ("" for none): what
	// the engine keeps of a waiting success beside its payload, and what suppression tells alerts
	// apart by.
	Host string
	// Format1 and Format1Code are for the seed's host logons alone: their waiting successes are
	// still encoded in format 1 (see internal/alert), byte for byte as before kinds were declared,
	// which names the kind by this byte.
	Format1     bool
	Format1Code byte
}

// kind is a declaration with what Declare derives from it.
type kind struct {
	KindSpec
	host int // index of the Host column, -1 for none
}

// kinds holds the declarations, indexed by Kind; the classifier's own kinds come first.
var kinds = []kind{
	Unrelated: {KindSpec{Name: "unrelated"}, -1},
	Wrapper:   {KindSpec{Name: "wrapper"}, -1},
	Rejected:  {KindSpec{Name: "rejected"}, -1},
}

// Declare declares a kind and returns it. It is called only to initialise a package-level variable
// of the file that yields the kind; a name and source declared twice, or more than MaxKinds
// kinds, are a programming error, and panic when the package is initialised.
func Declare(s KindSpec) Kind {
	if s.Name == "" {
		panic("classify: a kind without a name")
	}
	if _, ok := KindOf(s.Name, s.Source); ok {
		panic(fmt.Sprintf("classify: kind %s of %q declared twice", s.Name, s.Source))
	}
	if len(kinds) == MaxKinds {
		panic("classify: more than MaxKinds kinds")
	}
	if len(s.Columns) > MaxColumns {
		panic(fmt.Sprintf("classify: kind %s of %q has %d columns, at most %d", s.Name, s.Source, len(s.Columns), MaxColumns))
	}
	d := kind{s, -1}
	if s.Host != "" {
		if d.host = slices.Index(s.Columns, s.Host); d.host < 0 {
			panic(fmt.Sprintf("classify: kind %s of %q: no host column %q", s.Name, s.Source, s.Host))
		}
	}
	if _, ok := KindOfFormat1(s.Format1Code); ok && s.Format1 {
		panic(fmt.Sprintf("classify: format 1 code %d declared twice", s.Format1Code))
	}
	kinds = append(kinds, d)
	return Kind(len(kinds) - 1)
}

// NumKinds is how many kinds there are: every Kind is below it.
func NumKinds() int { return len(kinds) }

// KindOf returns the kind of a name and source.
func KindOf(name, source string) (Kind, bool) {
	for k, s := range kinds {
		if s.Name == name && s.Source == source {
			return Kind(k), true
		}
	}
	return 0, false
}

// String returns the kind's name, the value of the telemetry attribute "kind".
func (k Kind) String() string {
	if int(k) < len(kinds) {
		return kinds[k].Name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Source returns the Sentinel table the kind's records live in ("" for none).
func (k Kind) Source() string {
	if int(k) < len(kinds) {
		return kinds[k].Source
	}
	return ""
}

// Columns returns the names of the kind's columns.
func (k Kind) Columns() []string {
	if int(k) < len(kinds) {
		return kinds[k].Columns
	}
	return nil
}

// Host returns the index of the kind's host column, or -1 when it has none.
func (k Kind) Host() int {
	if int(k) < len(kinds) {
		return kinds[k].host
	}
	return -1
}

// Format1 returns the byte a format 1 encoding names the kind by, and whether it is encoded so.
func (k Kind) Format1() (byte, bool) {
	if int(k) < len(kinds) {
		return kinds[k].Format1Code, kinds[k].Format1
	}
	return 0, false
}

// KindOfFormat1 returns the kind a format 1 encoding names by code.
func KindOfFormat1(code byte) (Kind, bool) {
	for k, s := range kinds {
		if s.Format1 && s.Format1Code == code {
			return Kind(k), true
		}
	}
	return 0, false
}

// A part is a part of the classifier that runs only when a running rule uses one of its kinds
// (Rules.Kinds): rule B's failed host logons, the columns of a successful sign-in, the AWS console
// logins. Without it, its records are what they were before the part existed (Unrelated, or a
// SignIn), and cost what they did. A file declares its parts with declarePart.
type part uint8

// parts lists the kinds of each part, indexed by part.
var parts [][]Kind

// declarePart declares a part that runs when a rule uses any of ks.
func declarePart(ks ...Kind) part {
	if len(parts) == 63 { // (part 63 would be always's bit)
		panic("classify: more than 63 parts")
	}
	parts = append(parts, ks)
	return part(len(parts) - 1)
}

// rejectReasons are the declared reasons of a rejection, in declaration order.
var rejectReasons []string

// declareReject declares a reason a record is Rejected for (Observation.Reject), a value of the telemetry
// attribute "reason", and returns it.
func declareReject(reason string) string {
	rejectReasons = append(rejectReasons, reason)
	return reason
}

// RejectReasons lists every reason a record can be Rejected for.
func RejectReasons() []string { return rejectReasons }

// GoString names the kind with its source, as tests print it.
func (k Kind) GoString() string {
	if s := k.Source(); s != "" {
		return k.String() + "/" + s
	}
	return k.String()
}
