package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/revdesk/webhooks/internal/dashboard"
)

func get(t *testing.T, h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesFilesWithHeaders(t *testing.T) {
	h := dashboard.Handler(dashboard.Options{})
	for path, wantType := range map[string]string{
		"/":                                  "text/html; charset=utf-8",
		"/static/app.css":                    "text/css; charset=utf-8",
		"/static/js/app.js":                  "text/javascript; charset=utf-8",
		"/static/vendor/preact.min.js":       "text/javascript; charset=utf-8",
		"/static/vendor/uplot.min.css":       "text/css; charset=utf-8",
		"/static/favicon.svg":                "image/svg+xml",
		"/static/vendor/LICENSE.preact":      "text/plain; charset=utf-8",
		"/static/vendor/preact-hooks.min.js": "text/javascript; charset=utf-8",
	} {
		rec := get(t, h, path)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
			continue
		}
		hdr := rec.Header()
		if got := hdr.Get("Content-Type"); got != wantType {
			t.Errorf("GET %s: Content-Type %q, want %q", path, got, wantType)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: Content-Security-Policy %q", path, csp)
		}
		if hdr.Get("Cache-Control") != "no-cache" || hdr.Get("ETag") == "" || hdr.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: cache and safety headers %v", path, hdr)
		}
		if rec := get(t, h, path, "If-None-Match", hdr.Get("ETag")); rec.Code != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", path, rec.Code)
		}
	}
	for _, path := range []string{"/static/", "/static/js/", "/static/nope.js"} {
		if rec := get(t, h, path); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, rec.Code)
		}
	}
}

// The page loads nothing from elsewhere and runs no inline script, which
// the 'self'-only policy would block anyway.
func TestIndexUsesOnlyLocalAssets(t *testing.T) {
	body := get(t, dashboard.Handler(dashboard.Options{}), "/").Body.String()
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(m[1], "/static/") {
			t.Errorf("index.html references %q, outside /static/", m[1])
		}
	}
	if regexp.MustCompile(`<script(?:\s+type="module")?>`).MatchString(body) {
		t.Error("index.html has an inline script")
	}
}

// Routes must mount beside the API's own patterns without a ServeMux
// conflict (which panics) and leave other paths to the API.
func TestRoutesMountBesideTheAPI(t *testing.T) {
	mux := http.NewServeMux()
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	for _, p := range []string{"/api/", "GET /healthz", "GET /readyz", "GET /metrics", "GET /openapi.json"} {
		mux.Handle(p, api)
	}
	for p, h := range dashboard.Routes(dashboard.Options{}) {
		mux.Handle(p, h)
	}
	for path, want := range map[string]int{"/": 200, "/portal": 200, "/static/app.css": 200, "/api/v1/events": http.StatusTeapot, "/healthz": http.StatusTeapot, "/favicon.ico": 404} {
		if rec := get(t, mux, path); rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
	}
}

// Framing: the operator dashboard never, the portal only by the configured
// ancestors, and with none configured not at all.
func TestFraming(t *testing.T) {
	t.Parallel()
	embeddable := dashboard.Handler(dashboard.Options{FrameAncestors: []string{"https://app.example.com", "'self'"}})
	closed := dashboard.Handler(dashboard.Options{})
	for _, tc := range []struct {
		name      string
		h         http.Handler
		path      string
		ancestors string
		xfo       string
	}{
		{"operator page, portal embeddable", embeddable, "/", "'none'", "DENY"},
		{"portal page, embeddable", embeddable, "/portal", "https://app.example.com 'self'", ""},
		{"portal page, no ancestors configured", closed, "/portal", "'none'", "DENY"},
		{"operator page", closed, "/", "'none'", "DENY"},
	} {
		rec := get(t, tc.h, tc.path)
		csp := rec.Header().Get("Content-Security-Policy")
		if rec.Code != http.StatusOK || !strings.HasSuffix(csp, "; frame-ancestors "+tc.ancestors) {
			t.Errorf("%s: %d, CSP %q, want frame-ancestors %s", tc.name, rec.Code, csp, tc.ancestors)
		}
		if got := rec.Header().Get("X-Frame-Options"); got != tc.xfo {
			t.Errorf("%s: X-Frame-Options %q, want %q", tc.name, got, tc.xfo)
		}
	}
}

func TestCheckFrameAncestors(t *testing.T) {
	t.Parallel()
	for src, ok := range map[string]bool{
		"https://app.example.com": true, "https://*.example.com": true, "http://localhost:3000": true, "'self'": true, "https:": true,
		"'none'": false, "https://a.com; script-src *": false, "https://a.com b.com": false, "": false, "'unsafe-inline'": false,
	} {
		if err := dashboard.CheckFrameAncestors([]string{src}); (err == nil) != ok {
			t.Errorf("CheckFrameAncestors(%q) = %v, want ok=%v", src, err, ok)
		}
	}
}
