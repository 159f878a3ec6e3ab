package gitops

import (
	"net/url"
	"strings"
)

// Source is the repository a stack is followed from.
type Source struct {
	URL  string // https://, http://, ssh://, user@host:path, file:// or a local path
	Ref  string // a branch, a tag, a full commit ID, or "" for the remote's HEAD
	Path string // the stack's directory inside the repository, "" for its root
	Auth Auth
}

// Auth says where the credentials of a repository come from. At most one
// of the HTTPS forms and one SSH key may be set.
type Auth struct {
	// TokenFile or TokenEnv hold an HTTPS access token, sent as the
	// password of Username (default "x-access-token", as GitHub and
	// Gitea accept).
	TokenFile, TokenEnv string
	// Username with PasswordFile or PasswordEnv is HTTPS basic auth.
	Username                  string
	PasswordFile, PasswordEnv string
	// SSHKeyFile is a private key for ssh:// and scp-like URLs, checked
	// against KnownHosts (default ~/.ssh/known_hosts); host keys are
	// never accepted unchecked.
	SSHKeyFile string
	KnownHosts string
}

// Redact removes the credentials from a URL (all user information of an
// HTTP(S) URL, the password of others), so it can be printed, logged or
// stored.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.User == nil || !strings.Contains(rawURL, "://") {
		return rawURL
	}
	if u.Scheme == "http" || u.Scheme == "https" {
		u.User = nil // a token may be the user name
	} else if _, has := u.User.Password(); has {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}
