package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr   string
		reason string // substring of the error; "" means allowed
	}{
		// Public destinations.
		{"93.184.215.14", ""},
		{"8.8.8.8", ""},
		{"1.1.1.1", ""},
		{"100.63.255.255", ""},
		{"100.128.0.0", ""},
		{"172.15.255.255", ""},
		{"172.32.0.0", ""},
		{"192.0.1.255", ""},
		{"198.17.255.255", ""},
		{"198.20.0.0", ""},
		{"223.255.255.255", ""},
		{"2606:4700:4700::1111", ""},
		{"2a00:1450:4001:80b::200e", ""},
		{"::ffff:8.8.8.8", ""},
		{"64:ff9b::808:808", ""},
		{"2002:808:808::1", ""},
		// Teredo server 65.54.227.120, client 8.8.8.8 (bits inverted).
		{"2001:0:4136:e378:8000:63bf:f7f7:f7f7", ""},

		{"127.0.0.1", "127.0.0.1 is a loopback address"},
		{"127.255.255.254", "loopback"},
		{"10.0.0.1", "10.0.0.1 is a private address"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"169.254.169.254", "169.254.169.254 is the cloud metadata address"},
		{"169.254.0.1", "link-local"},
		{"100.64.0.1", "carrier-grade NAT"},
		{"100.127.255.255", "carrier-grade NAT"},
		{"0.0.0.0", "0.0.0.0 is the unspecified address"},
		{"0.1.2.3", `"this network"`},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"255.255.255.255", "the broadcast address"},
		{"240.0.0.1", "reserved"},
		{"192.0.2.1", "documentation"},
		{"198.51.100.7", "documentation"},
		{"203.0.113.9", "documentation"},
		{"198.18.0.1", "benchmarking"},
		{"198.19.255.255", "benchmarking"},
		{"192.0.0.8", "IETF protocol assignment"},
		{"192.88.99.1", "6to4 relay"},

		{"::1", "::1 is a loopback address"},
		{"::", ":: is the unspecified address"},
		{"fc00::1", "unique local"},
		{"fd12:3456::1", "unique local"},
		{"fe80::1", "link-local"},
		{"fe80::1%eth0", "fe80::1%eth0 is a link-local address"},
		{"febf::1", "link-local"},
		{"fec0::1", "site-local"},
		{"ff02::1", "multicast"},
		{"ff0e::1", "multicast"},
		{"2001:db8::1", "documentation"},
		{"3fff::1", "documentation"},
		{"2001:2::1", "benchmarking"},
		{"2001:10::1", "IETF protocol assignment"},
		{"100::1", "discard-only"},
		{"::7f00:1", "IPv4-compatible"},
		{"5f00::1", "outside the IPv6 global unicast range"},
		{"4000::1", "outside the IPv6 global unicast range"},

		// Embedded IPv4 forms.
		{"::ffff:127.0.0.1", "::ffff:127.0.0.1 is an IPv4-mapped form of 127.0.0.1, a loopback address"},
		{"::ffff:7f00:1", "IPv4-mapped form of 127.0.0.1"},
		{"::ffff:10.0.0.1", "private"},
		{"::ffff:169.254.169.254", "cloud metadata"},
		{"::ffff:0.0.0.0", "unspecified"},
		{"64:ff9b::7f00:1", "64:ff9b::7f00:1 is a NAT64 form of 127.0.0.1, a loopback address"},
		{"64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"},
		{"64:ff9b::10.0.0.1", "private"},
		{"64:ff9b:1::a00:1", "local-use NAT64"},
		{"64:ff9b:1:ffff::808:808", "local-use NAT64"},
		{"2002:7f00:1::", "6to4 form of 127.0.0.1, a loopback address"},
		{"2002:a9fe:a9fe::1", "6to4 form of 169.254.169.254"},
		{"2002:c0a8:101:1::1", "6to4 form of 192.168.1.1"},
		// Teredo client 127.0.0.1 = ^7f00:0001 = 80ff:fffe.
		{"2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo form of 127.0.0.1, a loopback address"},
		{"2001:0:a00:1::", "Teredo address with server 10.0.0.1, a private address"},
	}
	var p Policy
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			addr := netip.MustParseAddr(tt.addr)
			err := p.CheckAddr(addr)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
				}
				return
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("CheckAddr(%s) = %v, want ErrForbiddenAddress", tt.addr, err)
			}
			if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), addr.String()+" is ") {
				t.Fatalf("CheckAddr(%s) = %q, want it to name the address and contain %q", tt.addr, err, tt.reason)
			}
			if err := (Policy{AllowPrivate: true}).CheckAddr(addr); err != nil {
				t.Fatalf("AllowPrivate: CheckAddr(%s) = %v", tt.addr, err)
			}
		})
	}
}

func TestCheckAddrAllow(t *testing.T) {
	t.Parallel()
	p := Policy{Allow: []netip.Prefix{
		netip.MustParsePrefix("10.1.0.0/16"),
		netip.MustParsePrefix("fd00:1::/32"),
	}}
	for addr, allowed := range map[string]bool{
		"10.1.2.3":           true,
		"::ffff:10.1.2.3":    true, // the embedded IPv4 is what gets dialled
		"64:ff9b::a01:203":   true,
		"fd00:1::5":          true,
		"fd00:1::5%eth0":     true,
		"10.2.0.1":           false,
		"127.0.0.1":          false,
		"fd00:2::5":          false,
		"::ffff:10.2.0.1":    false,
		"169.254.169.254":    false,
		"2002:a01:203::1":    true,
		"2001:db8::1":        false,
		"192.168.0.1":        false,
		"::ffff:127.0.0.1":   false,
		"64:ff9b:1::a01:203": false,
	} {
		err := p.CheckAddr(netip.MustParseAddr(addr))
		if (err == nil) != allowed {
			t.Errorf("CheckAddr(%s) = %v, want allowed=%v", addr, err, allowed)
		}
	}
}

func TestCheckAddrInvalid(t *testing.T) {
	t.Parallel()
	if err := (Policy{}).CheckAddr(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("CheckAddr(zero) = %v, want ErrForbiddenAddress", err)
	}
}

// Control only sees address strings, so the forms that cannot be dialled
// locally (NAT64, 6to4, Teredo, mapped) are exercised by calling it directly.
func TestControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		network, address string
		allowed          bool
	}{
		{"tcp4", "93.184.215.14:443", true},
		{"tcp6", "[2606:4700:4700::1111]:443", true},
		{"tcp4", "127.0.0.1:80", false},
		{"tcp4", "169.254.169.254:80", false},
		{"tcp4", "0.0.0.0:80", false},
		{"tcp6", "[::1]:80", false},
		{"tcp6", "[::]:80", false},
		{"tcp6", "[::ffff:127.0.0.1]:80", false},
		{"tcp6", "[::ffff:10.0.0.1]:443", false},
		{"tcp6", "[64:ff9b::a9fe:a9fe]:80", false},
		{"tcp6", "[64:ff9b:1::a00:1]:80", false},
		{"tcp6", "[2002:7f00:1::1]:80", false},
		{"tcp6", "[2001:0:4136:e378:8000:63bf:80ff:fffe]:80", false},
		{"tcp6", "[fe80::1%eth0]:80", false},
		{"tcp6", "[fd00::2]:80", false},
		{"tcp", "localhost:80", false}, // never a name at this point: fail closed
		{"tcp", "", false},
		{"unix", "/run/docker.sock", false},
	}
	for _, tt := range tests {
		err := Policy{}.Control(tt.network, tt.address, nil)
		if (err == nil) != tt.allowed {
			t.Errorf("Control(%q, %q) = %v, want allowed=%v", tt.network, tt.address, err, tt.allowed)
		}
		if err != nil && !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("Control(%q, %q) = %v, want ErrForbiddenAddress", tt.network, tt.address, err)
		}
	}
	if err := (Policy{AllowPrivate: true}).Control("tcp6", "[::1]:80", nil); err != nil {
		t.Errorf("AllowPrivate: Control([::1]:80) = %v", err)
	}
}

func BenchmarkCheckAddr(b *testing.B) {
	var p Policy
	for _, s := range []string{"93.184.215.14", "2606:4700:4700::1111", "10.0.0.1", "::ffff:169.254.169.254"} {
		addr := netip.MustParseAddr(s)
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = p.CheckAddr(addr)
			}
		})
	}
}
