// Package dashboard serves the web dashboard: static files embedded in the
// binary that talk to the JSON API from the browser.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"
)

//go:embed static
var static embed.FS

// csp allows scripts, styles, images and fetches from this origin only: the
// page has no inline code and loads nothing from elsewhere.
const csp = "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// Routes are the patterns to mount beside the API: the page at "/" exactly,
// so unknown paths still get the API's 404, and its assets under /static/.
func Routes() map[string]http.Handler {
	h := Handler()
	return map[string]http.Handler{"GET /{$}": h, "GET /static/": h}
}

// Handler serves index.html at / and the embedded assets under /static/.
func Handler() http.Handler {
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Asset URLs carry no version, so browsers revalidate every time;
		// the content-hash ETag turns that into a cheap 304.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		name := r.URL.Path
		if name == "/" {
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
