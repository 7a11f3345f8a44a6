// Package dashboard serves the web dashboard: static files embedded in the
// binary that talk to the JSON API from the browser.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// csp allows scripts, styles, images and fetches from this origin only: the
// page has no inline code and loads nothing from elsewhere. framing is
// appended: who may embed the page.
const csp = "default-src 'self'; base-uri 'self'; form-action 'self'; object-src 'none'; frame-ancestors "

// Options configure the dashboard.
type Options struct {
	// FrameAncestors are the CSP sources (https://app.example.com, 'self')
	// allowed to embed the customer portal (/portal) in a frame. Empty: no
	// one may; the operator dashboard (/) is never framable.
	FrameAncestors []string
}

// frameSource is a CSP host-source or scheme-source, or 'self'.
var frameSource = regexp.MustCompile(`^('self'|[a-z][a-z0-9+.-]*:|([a-z][a-z0-9+.-]*://)?(\*\.)?[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*(:([0-9]{1,5}|\*))?(/[^\s;,]*)?)$`)

// CheckFrameAncestors reports the first value that is not a CSP source
// allowed in frame-ancestors.
func CheckFrameAncestors(sources []string) error {
	for _, src := range sources {
		if !frameSource.MatchString(src) {
			return fmt.Errorf("--portal-frame-ancestors %q is not a CSP source such as https://app.example.com, https://*.example.com or 'self'", src)
		}
	}
	return nil
}

// Routes are the patterns to mount beside the API: the page at "/" exactly
// and the customer portal at /portal (the same page), so unknown paths
// still get the API's 404, and its assets under /static/.
func Routes(o Options) map[string]http.Handler {
	h := Handler(o)
	return map[string]http.Handler{"GET /{$}": h, "GET /portal": h, "GET /static/": h}
}

// Handler serves index.html at / and the embedded assets under /static/.
func Handler(o Options) http.Handler {
	files := map[string]file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files["/"+p] = file{body: b, etag: `"` + hex.EncodeToString(sum[:12]) + `"`}
		return nil
	})
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files["/"] = files["/static/index.html"]
	files["/portal"] = files["/static/index.html"]
	refused := csp + "'none'"
	portal := refused
	if len(o.FrameAncestors) > 0 {
		portal = csp + strings.Join(o.FrameAncestors, " ")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		if r.URL.Path == "/portal" && portal != refused {
			h.Set("Content-Security-Policy", portal)
		} else {
			h.Set("Content-Security-Policy", refused)
			h.Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
		}
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Asset URLs carry no version, so browsers revalidate every time;
		// the content-hash ETag turns that into a cheap 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		name := r.URL.Path
		if name == "/" || name == "/portal" {
			name = "index.html"
		}
		// ServeContent picks the Content-Type from the extension and answers
		// If-None-Match.
		http.ServeContent(w, r, path.Base(name), time.Time{}, bytes.NewReader(f.body))
	})
}

type file struct {
	body []byte
	etag string
}
