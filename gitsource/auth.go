package gitsource

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"

	"github.com/berth-dev/berth/gitops"
)

// ErrNoCredential reports a credential source that is empty or missing.
var ErrNoCredential = errors.New("credential not found")

// authMethod turns a into go-git's auth for rawURL; nil means anonymous.
func authMethod(a gitops.Auth, rawURL string) (transport.AuthMethod, error) {
	ssh := isSSH(rawURL)
	if ssh {
		if a.TokenFile != "" || a.TokenEnv != "" || a.PasswordFile != "" || a.PasswordEnv != "" {
			return nil, fmt.Errorf("an HTTPS token or password does not apply to the SSH URL %s", gitops.Redact(rawURL))
		}
		return sshAuth(a, rawURL)
	}
	if a.SSHKeyFile != "" {
		return nil, fmt.Errorf("an SSH key does not apply to the URL %s", gitops.Redact(rawURL))
	}
	user := a.Username
	switch {
	case a.TokenFile != "" || a.TokenEnv != "":
		tok, err := secret("token", a.TokenFile, a.TokenEnv)
		if err != nil {
			return nil, err
		}
		if user == "" {
			user = "x-access-token"
		}
		return &githttp.BasicAuth{Username: user, Password: tok}, nil
	case a.PasswordFile != "" || a.PasswordEnv != "":
		if user == "" {
			return nil, errors.New("a password needs a username")
		}
		pw, err := secret("password", a.PasswordFile, a.PasswordEnv)
		if err != nil {
			return nil, err
		}
		return &githttp.BasicAuth{Username: user, Password: pw}, nil
	}
	return nil, nil
}

func sshAuth(a gitops.Auth, rawURL string) (transport.AuthMethod, error) {
	known := a.KnownHosts
	if known == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, fmt.Errorf("known_hosts: %w", err)
		}
		known = home + "/.ssh/known_hosts"
	}
	if _, err := os.Stat(known); err != nil {
		return nil, fmt.Errorf("SSH host keys are always checked, and %s cannot be read: %w", known, err)
	}
	check, err := gitssh.NewKnownHostsCallback(known)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", known, err)
	}
	user := sshUser(rawURL)
	if a.SSHKeyFile == "" {
		return nil, fmt.Errorf("the SSH URL %s needs a key file", gitops.Redact(rawURL))
	}
	keys, err := gitssh.NewPublicKeysFromFile(user, a.SSHKeyFile, "")
	if err != nil {
		return nil, fmt.Errorf("SSH key %s: %w", a.SSHKeyFile, err)
	}
	keys.HostKeyCallback = check
	return keys, nil
}

// secret reads a credential from a file (first line, trimmed) or an
// environment variable.
func secret(what, file, env string) (string, error) {
	if file != "" && env != "" {
		return "", fmt.Errorf("the %s comes from a file or an environment variable, not both", what)
	}
	var v string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s file: %w", what, err)
		}
		v, _, _ = strings.Cut(string(b), "\n")
	} else {
		v = os.Getenv(env)
	}
	v = strings.TrimSpace(v)
	if v == "" {
		src := "file " + file
		if env != "" {
			src = "environment variable " + env
		}
		return "", fmt.Errorf("%s from %s: %w", what, src, ErrNoCredential)
	}
	return v, nil
}

// isSSH reports whether rawURL is reached over SSH: ssh:// or scp-like
// user@host:path.
func isSSH(rawURL string) bool {
	if strings.HasPrefix(rawURL, "ssh://") || strings.HasPrefix(rawURL, "git+ssh://") {
		return true
	}
	if strings.Contains(rawURL, "://") || strings.HasPrefix(rawURL, "/") {
		return false
	}
	at, colon := strings.Index(rawURL, "@"), strings.Index(rawURL, ":")
	return at > 0 && colon > at
}

// sshUser is the user an SSH URL names, "git" when it names none.
func sshUser(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil && strings.Contains(rawURL, "://") {
		if u.User != nil && u.User.Username() != "" {
			return u.User.Username()
		}
		return "git"
	}
	if user, _, ok := strings.Cut(rawURL, "@"); ok && user != "" {
		return user
	}
	return "git"
}
