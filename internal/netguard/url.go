package netguard

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ErrInvalidURL is wrapped by every ValidateURL error. The rest of the
// message is written for API users, who see it in a 400.
var ErrInvalidURL = errors.New("invalid webhook_url")

// MaxURLLength is the longest webhook URL accepted, in bytes.
const MaxURLLength = 2048

// ValidateURL checks a webhook URL when a subscription is created.
//
// It requires an absolute https URL (or http when allowHTTP) with a host, no
// user info, no fragment (it is never sent, so keeping one would only mislead),
// at most MaxURLLength bytes and a valid port if one is given. The host must be
// ASCII (internationalized names in their xn-- form): IDNA mapping would
// otherwise turn e.g. fullwidth digits into an IP address after this check.
// Numeric-looking hosts that are not canonical dotted-decimal IPv4 (127.1,
// 2130706433, 0x7f.1, 0177.0.0.1, 1.2.3, "127.0.0.1.") are refused whatever
// the policy, since resolvers differ on what they mean. IP literals must pass
// p.CheckAddr, and localhost names are refused unless p.AllowPrivate.
//
// Hostnames are not resolved here: DNS can change after creation, so the
// connection-time check (Policy.Control) is what enforces the policy.
func ValidateURL(raw string, allowHTTP bool, p Policy) error {
	if len(raw) > MaxURLLength {
		return invalidf("the URL is %d bytes long; the limit is %d", len(raw), MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which the caller already has
		}
		return invalidf("not a valid URL: %v", err)
	}
	switch {
	case u.Scheme == "" || u.Opaque != "":
		return invalidf("must be an absolute URL such as https://example.com/webhooks")
	case u.Scheme == "http" && !allowHTTP:
		return invalidf("must use https")
	case u.Scheme != "https" && u.Scheme != "http":
		if allowHTTP {
			return invalidf("scheme %q is not supported; use https or http", u.Scheme)
		}
		return invalidf("scheme %q is not supported; use https", u.Scheme)
	case u.User != nil:
		return invalidf("must not contain user info (user:password@)")
	case strings.Contains(raw, "#"):
		return invalidf("must not contain a fragment (#...); it is never sent to the receiver")
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return invalidf("port %s is out of range", port)
		}
	}
	host := u.Hostname()
	if host == "" {
		return invalidf("must include a host")
	}
	return checkHost(host, strings.HasPrefix(u.Host, "["), p)
}

func checkHost(host string, bracketed bool, p Policy) error {
	if bracketed {
		// url.Parse has already required an IPv6 literal here.
		addr, err := netip.ParseAddr(host)
		if err != nil {
			return invalidf("host [%s] is not a valid IPv6 address", host)
		}
		if addr.Zone() != "" && !p.AllowPrivate {
			// A zone names an interface of this server: a local destination.
			return invalidf("host [%s] must not carry an IPv6 zone", host)
		}
		return checkIP(addr, p)
	}
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			if c >= 0x80 {
				return invalidf("host %q must be ASCII; write internationalized domain names in their punycode (xn--) form", host)
			}
			return invalidf("host %q is not a valid domain name", host)
		}
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		return checkIP(addr, p)
	}
	if slices.Contains(strings.Split(strings.TrimSuffix(host, "."), "."), "") {
		return invalidf("host %q has an empty label", host)
	}
	if endsInNumber(host) {
		return invalidf("host %q looks numeric but is not a canonical IP address; write IPv4 addresses as four decimal numbers (e.g. 203.0.113.7)", host)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	if !p.AllowPrivate && (name == "localhost" || strings.HasSuffix(name, ".localhost")) {
		return invalidf("host %q is this server (localhost); deliveries to private networks are not allowed", host)
	}
	return nil
}

func checkIP(addr netip.Addr, p Policy) error {
	if err := p.CheckAddr(addr); err != nil {
		// Reuse the reason without the sentinel's prefix: one sentinel per error.
		msg := strings.TrimPrefix(err.Error(), ErrForbiddenAddress.Error()+": ")
		return invalidf("%s; deliveries to it are not allowed", msg)
	}
	return nil
}

// endsInNumber follows the WHATWG URL "ends in a number" rule: if the last
// label (ignoring one trailing dot) is decimal or 0x-hex, browsers and
// inet_aton-style resolvers read the whole host as an IPv4 address, in one of
// many spellings. No real top-level domain is numeric.
func endsInNumber(host string) bool {
	host = strings.TrimSuffix(host, ".")
	last := host[strings.LastIndexByte(host, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") || strings.HasPrefix(last, "0X") {
		return strings.Trim(last[2:], "0123456789abcdefABCDEF") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

func invalidf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidURL, fmt.Sprintf(format, args...))
}
