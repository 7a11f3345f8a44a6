package netguard

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// atonLike reports whether a C-library resolver (inet_aton) would read host
// as an IPv4 address: one to four parts, each decimal, 0-octal or 0x-hex
// (glibc reads a bare 0x as zero). Range checks are left out on purpose:
// over-approximating only makes the invariant stricter.
func atonLike(host string) bool {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return false
	}
	for _, s := range parts {
		digits := "0123456789"
		switch {
		case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
			s, digits = s[2:], "0123456789abcdefABCDEF"
		case s == "":
			return false
		}
		if strings.Trim(s, digits) != "" {
			return false
		}
	}
	return true
}

func FuzzValidateURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/webhooks",
		"http://127.0.0.1:8080/",
		"https://2130706433/",
		"https://0x7f.1/",
		"https://0177.0.0.1/",
		"https://127.1/",
		"https://1.2.3/",
		"https://127.0.0.1./",
		"https://[::ffff:127.0.0.1]/",
		"https://[64:ff9b::a9fe:a9fe]/",
		"https://[fe80::1%25eth0]/",
		"https://localhost./",
		"https://user@example.com/",
		"https://１２７.０.０.１/",
		"https://example.com:65536/#x",
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		err := ValidateURL(raw, allowHTTP, Policy{})
		if errP := ValidateURL(raw, allowHTTP, Policy{AllowPrivate: true}); err == nil && errP != nil {
			t.Fatalf("accepted by the strict policy only: %q: %v", raw, errP)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidURL) {
				t.Fatalf("ValidateURL(%q) = %v, not ErrInvalidURL", raw, err)
			}
			return
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			t.Fatalf("accepted unparsable %q: %v", raw, perr)
		}
		if len(raw) > MaxURLLength || u.User != nil || (u.Scheme != "https" && !(allowHTTP && u.Scheme == "http")) {
			t.Fatalf("accepted %q", raw)
		}
		host := u.Hostname()
		if addr, err := netip.ParseAddr(host); err == nil {
			if cerr := (Policy{}).CheckAddr(addr); cerr != nil {
				t.Fatalf("accepted %q whose host is forbidden: %v", raw, cerr)
			}
			return
		}
		name := strings.ToLower(strings.TrimSuffix(host, "."))
		if name == "localhost" || strings.HasSuffix(name, ".localhost") {
			t.Fatalf("accepted %q naming localhost", raw)
		}
		if atonLike(host) || atonLike(strings.TrimSuffix(host, ".")) {
			t.Fatalf("accepted %q whose host a resolver may read as an IPv4 address", raw)
		}
	})
}

// FuzzCheckAddr takes 4 or 16 raw bytes, or an address in text form.
func FuzzCheckAddr(f *testing.F) {
	for _, b := range [][]byte{
		{127, 0, 0, 1}, {8, 8, 8, 8}, {169, 254, 169, 254}, {100, 64, 0, 1}, {255, 255, 255, 255},
		netip.MustParseAddr("2606:4700:4700::1111").AsSlice(),
		netip.MustParseAddr("::ffff:10.0.0.1").AsSlice(),
		[]byte("64:ff9b::7f00:1"), []byte("2002:c0a8:101::1"), []byte("fe80::1%eth0"),
		[]byte("2001:0:4136:e378:8000:63bf:80ff:fffe"),
	} {
		f.Add(b)
	}
	allow := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}}
	f.Fuzz(func(t *testing.T, b []byte) {
		var addr netip.Addr
		switch len(b) {
		case 4:
			addr = netip.AddrFrom4([4]byte(b))
		case 16:
			addr = netip.AddrFrom16([16]byte(b))
		default:
			var err error
			if addr, err = netip.ParseAddr(string(b)); err != nil {
				return
			}
		}
		for _, p := range []Policy{{}, allow} {
			err := p.CheckAddr(addr)
			if err != nil && (!errors.Is(err, ErrForbiddenAddress) || !strings.Contains(err.Error(), addr.String()+" is ")) {
				t.Fatalf("CheckAddr(%s) = %v: not ErrForbiddenAddress naming the address", addr, err)
			}
			v4 := addr.Unmap()
			if !v4.Is4() {
				continue
			}
			b4 := v4.As4()
			// Every IPv6 form embedding v4 must be judged like v4 itself.
			for _, form := range []netip.Addr{
				v4,
				netip.AddrFrom16(v4.As16()), // IPv4-mapped
				netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 10: 0, 11: 0, 12: b4[0], 13: b4[1], 14: b4[2], 15: b4[3]}), // NAT64
				netip.AddrFrom16([16]byte{0x20, 0x02, b4[0], b4[1], b4[2], b4[3], 15: 1}),                                 // 6to4
			} {
				if ferr := p.CheckAddr(form); (ferr == nil) != (err == nil) {
					t.Fatalf("policy %+v: CheckAddr(%s) = %v but CheckAddr(%s) = %v", p, addr, err, form, ferr)
				}
			}
		}
		if err := (Policy{AllowPrivate: true}).CheckAddr(addr); err != nil {
			t.Fatalf("AllowPrivate: CheckAddr(%s) = %v", addr, err)
		}
	})
}
