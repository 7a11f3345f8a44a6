package netguard

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestValidateURL(t *testing.T) {
	t.Parallel()
	long := "https://example.com/" + strings.Repeat("a", MaxURLLength-len("https://example.com/"))
	tests := []struct {
		url       string
		allowHTTP bool
		private   bool   // Policy.AllowPrivate
		want      string // substring of the error; "" means accepted
	}{
		{"https://example.com/webhooks", false, false, ""},
		{"HTTPS://Example.COM:8443/a?b=c", false, false, ""},
		{"https://hooks.example.com./x", false, false, ""},
		{"https://xn--bcher-kva.example/", false, false, ""},
		{"https://my_host.example.com/", false, false, ""},
		{"https://93.184.215.14/hook", false, false, ""},
		{"https://[2606:4700:4700::1111]:443/hook", false, false, ""},
		{"https://[::ffff:8.8.8.8]/", false, false, ""},
		{"http://example.com/", true, false, ""},
		{long, false, false, ""},
		{"https://0x7f.example.com/", false, false, ""}, // a name, not a number
		{"https://1.2.3.4.example/", false, false, ""},

		{long + "a", false, false, "limit is 2048"},
		{"http://example.com/", false, false, "must use https"},
		{"ftp://example.com/", false, false, `scheme "ftp" is not supported; use https`},
		{"ftp://example.com/", true, false, "use https or http"},
		{"javascript:alert(1)", false, false, "absolute URL"},
		{"https:example.com", false, false, "absolute URL"},
		{"/relative/path", false, false, "absolute URL"},
		{"//example.com/x", false, false, "absolute URL"},
		{"", false, false, "absolute URL"},
		{"https:///path", false, false, "must include a host"},
		{"https://:443/", false, false, "must include a host"},
		{"https://user:pass@example.com/", false, false, "user info"},
		{"https://user@example.com/", false, false, "user info"},
		{"https://example.com/#frag", false, false, "fragment"},
		{"https://example.com/#", false, false, "fragment"},
		{"https://example.com:0/", false, false, "port 0 is out of range"},
		{"https://example.com:65536/", false, false, "out of range"},
		{"https://exa mple.com/", false, false, "not a valid URL"},
		{"https://exa%41mple.com/", false, false, "not a valid URL"},
		{"https://a<b>.com/", false, false, "not a valid domain name"},
		{"https://a..com/", false, false, "empty label"},
		{"https://.example.com/", false, false, "empty label"},
		{"https://bücher.example/", false, false, "punycode"},
		{"https://１２７.０.０.１/", false, false, "punycode"},

		// Numeric-looking hosts that are not canonical IPs, refused even
		// when private networks are allowed.
		{"http://2130706433/", true, true, "not a canonical IP"},
		{"http://0x7f.1/", true, true, "not a canonical IP"},
		{"http://0177.0.0.1/", true, true, "not a canonical IP"},
		{"http://127.1/", true, true, "not a canonical IP"},
		{"http://0x7f000001/", true, true, "not a canonical IP"},
		{"http://0X7F000001/", true, true, "not a canonical IP"},
		{"http://1.2.3/", true, true, "not a canonical IP"},
		{"http://127.0.0.1./", true, true, "not a canonical IP"},
		{"http://8.8.8.8./", true, true, "not a canonical IP"},
		{"http://127.000.000.001/", true, true, "not a canonical IP"},
		{"http://1.2.3.4.5/", true, true, "not a canonical IP"},
		{"http://0x/", true, true, "not a canonical IP"},
		{"http://example.123/", true, true, "not a canonical IP"},
		{"http://256.1.1.1/", true, true, "not a canonical IP"},

		// IP literals the policy refuses.
		{"https://127.0.0.1/", false, false, "127.0.0.1 is a loopback address"},
		{"https://10.0.0.1/", false, false, "10.0.0.1 is a private address"},
		{"https://169.254.169.254/latest/meta-data/", false, false, "cloud metadata"},
		{"https://0.0.0.0/", false, false, "unspecified"},
		{"https://100.64.0.1/", false, false, "carrier-grade NAT"},
		{"https://255.255.255.255/", false, false, "broadcast"},
		{"https://[::1]/", false, false, "::1 is a loopback address"},
		{"https://[::]/", false, false, "unspecified"},
		{"https://[::ffff:127.0.0.1]/", false, false, "IPv4-mapped form of 127.0.0.1"},
		{"https://[::ffff:a9fe:a9fe]/", false, false, "IPv4-mapped form of 169.254.169.254"},
		{"https://[64:ff9b::7f00:1]/", false, false, "NAT64 form of 127.0.0.1"},
		{"https://[2002:7f00:1::]/", false, false, "6to4 form of 127.0.0.1"},
		{"https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/", false, false, "Teredo form of 127.0.0.1"},
		{"https://[fd00::1]/", false, false, "unique local"},
		{"https://[fe80::1]/", false, false, "link-local"},
		{"https://[fe80::1%25eth0]/", false, false, "zone"},
		{"https://[2606:4700::1%25eth0]/", false, false, "zone"},
		{"https://[2001:db8::1]/", false, false, "documentation"},
		{"https://localhost/", false, false, "localhost"},
		{"https://LOCALHOST./", false, false, "localhost"},
		{"https://api.localhost:8080/", false, false, "localhost"},

		// Allowed when private networks are.
		{"http://127.0.0.1:8080/hook", true, true, ""},
		{"http://localhost:8080/hook", true, true, ""},
		{"http://[::1]:8080/hook", true, true, ""},
		{"http://[fe80::1%25eth0]:8080/hook", true, true, ""},
		{"http://169.254.169.254/", true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := ValidateURL(tt.url, tt.allowHTTP, Policy{AllowPrivate: tt.private})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("ValidateURL(%q) = %v, want accepted", tt.url, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidURL) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ValidateURL(%q) = %v, want ErrInvalidURL containing %q", tt.url, err, tt.want)
			}
			if errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("ValidateURL(%q) = %v also wraps ErrForbiddenAddress", tt.url, err)
			}
		})
	}
}

func TestValidateURLAllowPrefix(t *testing.T) {
	t.Parallel()
	p := Policy{Allow: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/16")}}
	if err := ValidateURL("https://10.20.1.2/hook", false, p); err != nil {
		t.Errorf("allowed prefix: %v", err)
	}
	if err := ValidateURL("https://10.21.1.2/hook", false, p); !errors.Is(err, ErrInvalidURL) {
		t.Errorf("outside the allowed prefix: %v, want ErrInvalidURL", err)
	}
}
