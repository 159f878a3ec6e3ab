package image

import (
	"fmt"
	"net"
	"strings"

	"github.com/distribution/reference"
)

// NormalizeRef applies Docker's reference rules: a missing registry becomes
// docker.io, a single-component Docker Hub name gets library/, a missing tag
// becomes latest, and a digest is kept ("name:tag@sha256:…" keeps only the
// digest, as Docker does). "nginx" becomes "docker.io/library/nginx:latest".
func NormalizeRef(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	return named.String(), nil
}

// mustNamed parses a reference that NormalizeRef already accepted.
func mustNamed(normalized string) reference.Named {
	n, err := reference.ParseNormalizedNamed(normalized)
	if err != nil {
		panic(fmt.Sprintf("re-parsing normalised reference %q: %v", normalized, err))
	}
	return n
}

// isLoopbackRegistry reports whether a registry host[:port] is localhost or a
// loopback address (127.0.0.0/8, ::1).
func isLoopbackRegistry(domain string) bool {
	host := domain
	if h, _, err := net.SplitHostPort(domain); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// repoOf returns the repository part ("docker.io/library/nginx") of a
// normalised reference.
func repoOf(normalized string) string {
	return mustNamed(normalized).Name()
}
