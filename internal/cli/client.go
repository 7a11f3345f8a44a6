package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// ClientFlags are the connection flags of the commands that talk to a
// running server. Embedding them provides a *Client to the commands' Run.
type ClientFlags struct {
	Server string `default:"http://localhost:8080" env:"REVDESK_SERVER" help:"Base URL of the RevDesk Webhooks server."`
	APIKey string `name:"api-key" env:"REVDESK_API_KEY" help:"API key (rdk_…) sent as Authorization: Bearer."`
	Output `embed:""`
}

// ProvideClient is called by kong (methods named Provide* are providers) to
// hand a *Client to the Run method of any command below the embedding one.
func (f *ClientFlags) ProvideClient() (*Client, error) {
	u, err := url.Parse(f.Server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--server %q: want a URL such as http://localhost:8080", f.Server)
	}
	return &Client{Output: &f.Output, base: strings.TrimRight(f.Server, "/"), key: f.APIKey, http: &http.Client{Timeout: 2 * time.Minute}}, nil
}

// Client calls the JSON API and prints its answers.
type Client struct {
	*Output
	base string
	key  string
	http *http.Client
}

// APIError is an error answer of the API. Its text is what the terminal
// shows: "error: <message> (<code>)".
type APIError struct {
	Status     int
	Code       string
	Message    string
	Field      string
	ExistingID string
}

func (e *APIError) Error() string { return fmt.Sprintf("error: %s (%s)", e.Message, e.Code) }

// call sends one request and returns the answer's body; an error status
// becomes an *APIError.
func (c *Client) call(method, path string, query url.Values, body []byte, header http.Header) ([]byte, error) {
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cannot reach the server at %s (set --server or REVDESK_SERVER): %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode < 400 {
		return raw, nil
	}
	var e struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			Field      string `json:"field"`
			ExistingID string `json:"existing_id"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
		// Not our JSON error: a proxy, or not a RevDesk server at all.
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "…"
		}
		return nil, &APIError{Status: resp.StatusCode, Code: fmt.Sprintf("http_%d", resp.StatusCode), Message: strings.TrimSpace(http.StatusText(resp.StatusCode) + " " + msg)}
	}
	return nil, &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field, ExistingID: e.Error.ExistingID}
}

// show sends a request and prints the answer: with text (see Output.Print)
// for people, as JSON with --json.
func (c *Client) show(method, path string, query url.Values, body any, text func(io.Writer, []byte) error) error {
	raw, err := c.send(method, path, query, body, nil)
	if err != nil {
		return err
	}
	return c.Print(raw, text)
}

// send marshals body (nil: none) and calls the API.
func (c *Client) send(method, path string, query url.Values, body any, header http.Header) ([]byte, error) {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	return c.call(method, path, query, b, header)
}

func subscriptionPath(id string, action ...string) string {
	return strings.Join(append([]string{"/api/v1/webhook_subscriptions", url.PathEscape(id)}, action...), "/")
}

// PageFlags are the paging flags of list commands.
type PageFlags struct {
	Limit int    `help:"Page size, 1 to 100 (server default 20)."`
	After string `help:"next_after of the previous page (the table's last line shows it)."`
}

// query builds a list request's query from the page and the filters
// (name, value pairs), leaving out unset ones.
func (p PageFlags) query(filters ...string) url.Values {
	q := url.Values{}
	if p.Limit > 0 {
		q.Set("limit", fmt.Sprint(p.Limit))
	}
	if p.After != "" {
		q.Set("after", p.After)
	}
	for i := 0; i+1 < len(filters); i += 2 {
		if filters[i+1] != "" {
			q.Set(filters[i], filters[i+1])
		}
	}
	return q
}
