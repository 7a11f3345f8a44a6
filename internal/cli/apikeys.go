package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// APIKeysCmd groups the API key commands.
type APIKeysCmd struct {
	ClientFlags `embed:""`

	List   APIKeysListCmd  `cmd:"" help:"List the workspace's API keys (ids only: keys are stored hashed)."`
	Create APIKeyCreateCmd `cmd:"" help:"Create an API key for the workspace; prints it once."`
	Revoke APIKeyRevokeCmd `cmd:"" help:"Revoke an API key at once."`
}

// APIKeysListCmd lists keys.
type APIKeysListCmd struct{}

func (c *APIKeysListCmd) Run(cl *Client) error {
	return cl.show(http.MethodGet, "/api/v1/api_keys", nil, nil, List(Col("id"), Col("created_at"), Col("revoked_at")))
}

// APIKeyCreateCmd creates a key.
type APIKeyCreateCmd struct{}

func (c *APIKeyCreateCmd) Run(cl *Client) error {
	return cl.show(http.MethodPost, "/api/v1/api_keys", nil, nil, func(w io.Writer, raw []byte) error {
		if err := Fields(w, raw); err != nil {
			return err
		}
		_, err := fmt.Fprintln(w, "\nStore the key now: it is shown only once.")
		return err
	})
}

// APIKeyRevokeCmd revokes a key.
type APIKeyRevokeCmd struct {
	ID string `arg:"" help:"Key id (key_…, from api-keys list)."`
}

func (c *APIKeyRevokeCmd) Run(cl *Client) error {
	if _, err := cl.call(http.MethodDelete, "/api/v1/api_keys/"+url.PathEscape(c.ID), nil, nil, nil); err != nil {
		return err
	}
	return cl.PrintValue(map[string]any{"id": c.ID, "revoked": true}, Done("Revoked API key "+c.ID+"."))
}
