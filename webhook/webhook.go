// Package webhook is the HTTP endpoint a git host calls on a push: a
// request is accepted only when it proves it knows the shared secret —
// GitHub's and Gitea's X-Hub-Signature-256 (an HMAC-SHA256 of the body),
// Gitea's X-Gitea-Signature, or GitLab's X-Gitlab-Token — and then
// triggers a reconcile pass at once. Bodies are bounded, triggers are
// rate limited, and every other request is refused.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"

	"golang.org/x/time/rate"
)

// MaxBody is the largest request body read; push payloads of big commits
// stay far below it.
const MaxBody = 1 << 20

// Handler checks and answers webhook requests.
type Handler struct {
	secret  []byte
	trigger func()
	limit   *rate.Limiter
}

// New returns a handler calling trigger for each authentic request, at
// most burst at once and then one per second. The secret must not be empty.
func New(secret []byte, trigger func(), burst int) (*Handler, error) {
	if len(secret) == 0 {
		return nil, errors.New("the webhook needs a secret")
	}
	return &Handler{secret: secret, trigger: trigger, limit: rate.NewLimiter(1, burst)}, nil
}

// ServeHTTP answers 202 to an authentic POST, 401 to one that is not, 405
// to other methods, 413 to an oversized body and 429 when triggered too
// often.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	if !h.authentic(r.Header, body) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	if !h.limit.Allow() {
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	h.trigger()
	w.WriteHeader(http.StatusAccepted)
}

// authentic reports whether the request proves it knows the secret.
func (h *Handler) authentic(hdr http.Header, body []byte) bool {
	if sig := hdr.Get("X-Hub-Signature-256"); sig != "" {
		hexSig, ok := strings.CutPrefix(sig, "sha256=")
		return ok && h.validMAC(hexSig, body)
	}
	if sig := hdr.Get("X-Gitea-Signature"); sig != "" {
		return h.validMAC(sig, body)
	}
	if tok := hdr.Get("X-Gitlab-Token"); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), h.secret) == 1
	}
	return false
}

// validMAC compares a hex HMAC-SHA256 of body in constant time.
func (h *Handler) validMAC(hexSig string, body []byte) bool {
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, h.secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}
