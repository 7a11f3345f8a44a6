// Package openapi publishes the OpenAPI 3.1 description of the HTTP API.
// The document is maintained as data (openapi.json) and its tests keep it
// honest: every route is documented, examples match their schemas, and the
// real server's answers match the documented responses.
package openapi

import (
	_ "embed"
	"net/http"
)

//go:embed openapi.json
var document []byte

// Handler serves the document as application/json.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(document) // a failed write means the client went away
	})
}
