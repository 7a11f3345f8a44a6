// Package netguard keeps webhook deliveries away from internal networks
// (SSRF protection, SPEC §6).
//
// The authoritative check runs at connection time: Policy.Control is installed
// as net.Dialer.Control, so it sees every address the dialer actually tries,
// after DNS resolution. A hostname that resolves (or rebinds) to a forbidden
// address, or whose answer mixes public and private addresses, cannot get
// through. ValidateURL is the create-time check that gives API users an early,
// readable 400; it is not what enforces the policy.
package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// ErrForbiddenAddress is wrapped by every error reporting a destination
// address the policy refuses.
var ErrForbiddenAddress = errors.New("forbidden destination address")

// Policy decides which destination addresses deliveries may connect to.
// The zero value refuses every non-public address.
type Policy struct {
	// AllowPrivate turns the guard off (--allow-private-networks, --dev).
	AllowPrivate bool
	// Allow lists prefixes opened explicitly despite being non-public, for
	// operators whose receivers live on an internal network. A prefix matches
	// the address in the form it is written (an IPv4 prefix also matches the
	// IPv4 embedded in an IPv4-mapped, NAT64, 6to4 or Teredo address).
	Allow []netip.Prefix
}

type rangeReason struct {
	prefix netip.Prefix
	reason string
}

// First match wins, so narrower prefixes come before the ranges holding them.
var v4Ranges = []rangeReason{
	{netip.MustParsePrefix("0.0.0.0/32"), "the unspecified address"},
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address (0.0.0.0/8)`},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT (shared) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud metadata address (link-local)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("192.88.99.0/24"), "a deprecated 6to4 relay anycast address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("255.255.255.255/32"), "the broadcast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
}

// Checked after the embedded-IPv4 forms have been handled.
var v6Ranges = []rangeReason{
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/96"), "a deprecated IPv4-compatible address"},
	{netip.MustParsePrefix("100::/64"), "a discard-only address"},
	// RFC 8215 local-use translation: the IPv4 position depends on the
	// operator's prefix length, and by definition it leads into a local network.
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a local-use NAT64 address"},
	{netip.MustParsePrefix("2001:2::/48"), "a benchmarking address"},
	{netip.MustParsePrefix("2001::/23"), "an IETF protocol assignment address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("3fff::/20"), "a documentation address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("fec0::/10"), "a deprecated site-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
}

var (
	globalUnicast6 = netip.MustParsePrefix("2000::/3")
	nat64WellKnown = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour      = netip.MustParsePrefix("2002::/16")
	teredo         = netip.MustParsePrefix("2001::/32")
)

// CheckAddr returns nil when deliveries may connect to addr, and otherwise an
// error wrapping ErrForbiddenAddress that names the address and the reason.
// An IPv6 zone is ignored: it picks an interface, not a destination.
func (p Policy) CheckAddr(addr netip.Addr) error {
	if p.AllowPrivate {
		return nil
	}
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddress)
	}
	if reason := p.forbidden(addr.WithZone("")); reason != "" {
		return fmt.Errorf("%w: %s is %s", ErrForbiddenAddress, addr, reason)
	}
	return nil
}

// forbidden returns why a (zone-less) address is refused, or "" if it is not.
func (p Policy) forbidden(a netip.Addr) string {
	for _, pfx := range p.Allow {
		if pfx.Contains(a) {
			return ""
		}
	}
	if a.Is4() {
		for _, r := range v4Ranges {
			if r.prefix.Contains(a) {
				return r.reason
			}
		}
		return ""
	}
	// Forms that carry an IPv4 address reach that address through a
	// translator or tunnel, so the embedded IPv4 decides.
	b := a.As16()
	switch {
	case a.Is4In6():
		return p.embedded("an IPv4-mapped form of", a.Unmap())
	case nat64WellKnown.Contains(a):
		return p.embedded("a NAT64 form of", netip.AddrFrom4([4]byte(b[12:16])))
	case sixToFour.Contains(a):
		return p.embedded("a 6to4 form of", netip.AddrFrom4([4]byte(b[2:6])))
	case teredo.Contains(a):
		// RFC 4380: the server address in clear, the client's public
		// address (the one finally reached) with every bit inverted.
		if r := p.embedded("a Teredo address with server", netip.AddrFrom4([4]byte(b[4:8]))); r != "" {
			return r
		}
		client := [4]byte{^b[12], ^b[13], ^b[14], ^b[15]}
		return p.embedded("a Teredo form of", netip.AddrFrom4(client))
	}
	for _, r := range v6Ranges {
		if r.prefix.Contains(a) {
			return r.reason
		}
	}
	if !globalUnicast6.Contains(a) {
		return "outside the IPv6 global unicast range (2000::/3)"
	}
	return ""
}

func (p Policy) embedded(form string, v4 netip.Addr) string {
	r := p.forbidden(v4)
	if r == "" {
		return ""
	}
	return fmt.Sprintf("%s %s, %s", form, v4, r)
}

// Control is meant for net.Dialer.Control. The dialer calls it with the
// resolved ip:port of each connection attempt, before connecting, which is
// what makes the check immune to DNS rebinding and mixed DNS answers.
// The RawConn is not used, so tests may pass nil.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Fail closed: the dialer only ever hands us ip:port, so anything
		// else is not something we can vouch for.
		return fmt.Errorf("%w: cannot parse dialled %s address %q", ErrForbiddenAddress, network, address)
	}
	return p.CheckAddr(ap.Addr())
}
