package classify

import (
	"net/netip"
	"strings"
)

// ParseAddr parses an IP address as the records carry it: surrounding space trimmed, "[v6]" and
// "[v6]:port" brackets and an "a.b.c.d:port" port removed, an IPv6 zone ("%eth0") dropped, and an
// IPv4-mapped IPv6 address ("::ffff:a.b.c.d") unmapped. IPv4 octets with leading zeros are rejected,
// as netip does, and so are the unspecified addresses 0.0.0.0 and ::, which name no source.
func ParseAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 64 {
		return netip.Addr{}, false
	}
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" && (rest[0] != ':' || !isPort(rest[1:])) {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if c := strings.IndexByte(s, ':'); c >= 0 && strings.IndexByte(s[c+1:], ':') < 0 {
		// Exactly one colon: only "a.b.c.d:port" makes sense.
		if strings.IndexByte(s[:c], '.') < 0 || !isPort(s[c+1:]) {
			return netip.Addr{}, false
		}
		s = s[:c]
	}
	if z := strings.IndexByte(s, '%'); z >= 0 && strings.IndexByte(s, ':') >= 0 {
		s = s[:z]
	}
	// netip.ParseAddr allocates its error; most garbage ("-", host names) is turned away before it.
	if !addrChars(s) {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.IsUnspecified() {
		return netip.Addr{}, false
	}
	return a, true
}

// addrChars reports whether s is made only of the characters an IPv4 or IPv6 address can hold.
func addrChars(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && c != '.' && c != ':' && (c|0x20 < 'a' || c|0x20 > 'f') {
			return false
		}
	}
	return true
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	n, ok := digits(s)
	return ok && n <= 65535
}

// normalisePrefix masks p and turns an IPv4-mapped prefix into its IPv4 form, so that it matches
// the unmapped addresses ParseAddr returns.
func normalisePrefix(p netip.Prefix) (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked(), true
}

// excludedAddr reports whether a is in one of the rule's excluded prefixes.
func (c *Classifier) excludedAddr(a netip.Addr) bool {
	for _, p := range c.excludedIPs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
