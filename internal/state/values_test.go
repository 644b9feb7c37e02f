package state

import (
	"math"
	"net/netip"
)

// farWall is a wall clock far beyond every event time of the tests: nothing is in the future.
const farWall = math.MaxInt64 / 2

// base is a realistic event time (2025-11-27) with nanoseconds below the microsecond, so every
// scenario crosses microsecond boundaries at a magnitude where a double cannot hold nanoseconds.
const base = int64(1764201234567890950)

var (
	attacker = netip.MustParseAddr("203.0.113.7")
	other    = netip.MustParseAddr("198.51.100.1")
	v6       = netip.MustParseAddr("2001:db8::1")
)
