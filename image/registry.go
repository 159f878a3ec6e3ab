package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// dockerHub is the registry domain of normalised Docker Hub references, and
// originDockerHub the host that actually serves it.
const (
	dockerHub       = "docker.io"
	originDockerHub = "registry-1.docker.io"
)

// RegistryConfig holds the registry settings of Docker's daemon.json.
type RegistryConfig struct {
	// Mirrors are registry-mirrors: base URLs ("https://mirror.example",
	// "http://10.0.0.5:5000") tried in order for docker.io images before
	// falling back to Docker Hub itself. A plain-http URL is spoken to
	// without TLS.
	Mirrors []string
	// Insecure are insecure-registries: "host[:port]" or a CIDR ("10.0.0.0/8").
	// Such registries may be spoken to over plain HTTP or TLS without
	// certificate verification. Loopback registries are always insecure.
	Insecure []string
}

// WithRegistryConfig sets registry mirrors and insecure registries.
func WithRegistryConfig(c RegistryConfig) Option {
	return func(s *Store) error {
		var errs []error
		for _, m := range c.Mirrors {
			if _, err := parseMirror(m); err != nil {
				errs = append(errs, err)
			}
		}
		for _, i := range c.Insecure {
			if strings.Contains(i, "/") {
				if _, _, err := net.ParseCIDR(i); err != nil {
					errs = append(errs, fmt.Errorf("insecure registry %q: %w", i, err))
				}
			} else if i == "" || strings.Contains(i, "://") {
				errs = append(errs, fmt.Errorf("insecure registry %q: want host[:port] or a CIDR", i))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return fmt.Errorf("WithRegistryConfig: %w", err)
		}
		s.registries = c
		return nil
	}
}

// mirror is a parsed registry mirror.
type mirror struct {
	host  string // host[:port]
	plain bool   // http://
}

// parseMirror checks a registry-mirrors URL as Docker does: http or https,
// a host, no path beyond "/", no query.
func parseMirror(raw string) (mirror, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return mirror{}, fmt.Errorf("registry mirror %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return mirror{}, fmt.Errorf("registry mirror %q: want http(s)://host[:port]", raw)
	}
	return mirror{host: u.Host, plain: u.Scheme == "http"}, nil
}

// source is one registry a reference can be fetched from.
type source struct {
	ref  name.Reference
	host string // what served, for progress and messages
}

// sources lists where to fetch a normalised reference from: for docker.io
// each mirror in order, then the origin; otherwise the origin alone.
func (s *Store) sources(norm string) ([]source, error) {
	origin, err := s.remoteRef(norm)
	if err != nil {
		return nil, err
	}
	named := mustNamed(norm)
	out := []source{}
	if reference.Domain(named) == dockerHub {
		for _, raw := range s.registries.Mirrors {
			m, _ := parseMirror(raw) // checked by WithRegistryConfig
			r, err := retarget(origin, m.host, m.plain || s.isInsecure(m.host))
			if err != nil {
				return nil, err
			}
			out = append(out, source{ref: r, host: m.host})
		}
	}
	host := origin.Context().RegistryStr()
	if host == "index.docker.io" {
		host = originDockerHub
	}
	return append(out, source{ref: origin, host: host}), nil
}

// retarget returns ref with its registry replaced by host.
func retarget(ref name.Reference, host string, insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	repo := host + "/" + ref.Context().RepositoryStr()
	var (
		r   name.Reference
		err error
	)
	switch ref := ref.(type) {
	case name.Digest:
		r, err = name.NewDigest(repo+"@"+ref.DigestStr(), opts...)
	default:
		r, err = name.NewTag(repo+":"+ref.Identifier(), opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("mirror reference for %s on %s: %w", ref, host, err)
	}
	return r, nil
}

// remoteRef turns a normalised reference into go-containerregistry's form,
// allowing plain HTTP for loopback and configured insecure registries.
func (s *Store) remoteRef(normalized string) (name.Reference, error) {
	var opts []name.Option
	if s.isInsecure(reference.Domain(mustNamed(normalized))) {
		opts = append(opts, name.Insecure)
	}
	r, err := name.ParseReference(normalized, opts...)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", normalized, err)
	}
	return r, nil
}

// isInsecure reports whether a registry host[:port] may be spoken to without
// verified TLS: loopback, or listed in insecure-registries by name or CIDR.
func (s *Store) isInsecure(domain string) bool {
	if isLoopbackRegistry(domain) {
		return true
	}
	host := domain
	if h, _, err := net.SplitHostPort(domain); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	for _, e := range s.registries.Insecure {
		if e == domain || e == host {
			return true
		}
		_, cidr, err := net.ParseCIDR(e)
		if err != nil {
			continue
		}
		if ip := net.ParseIP(host); ip != nil && cidr.Contains(ip) {
			return true
		}
	}
	return false
}

// remoteOptions are the options of every registry call: context,
// credentials, and the transport (skipping TLS verification only for
// insecure registries).
func (s *Store) remoteOptions(ctx context.Context, extra ...remote.Option) []remote.Option {
	return append([]remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(s.keychain),
		remote.WithTransport(s.transport()),
	}, extra...)
}

// transport returns the store's transport, wrapped so that insecure
// registries are spoken to without certificate verification.
func (s *Store) transport() http.RoundTripper {
	ht, ok := s.rt.(*http.Transport)
	if !ok {
		return s.rt
	}
	unverified := ht.Clone()
	if unverified.TLSClientConfig == nil {
		unverified.TLSClientConfig = &tls.Config{}
	}
	unverified.TLSClientConfig.InsecureSkipVerify = true
	return &insecureTransport{secure: s.rt, unverified: unverified, insecure: s.isInsecure}
}

// insecureTransport picks the unverified transport for insecure hosts.
type insecureTransport struct {
	secure, unverified http.RoundTripper
	insecure           func(host string) bool
}

func (t *insecureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "https" && t.insecure(req.URL.Host) {
		return t.unverified.RoundTrip(req)
	}
	return t.secure.RoundTrip(req)
}
