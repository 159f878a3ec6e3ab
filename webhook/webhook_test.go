package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func sign(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

func TestWebhook(t *testing.T) {
	const secret, body = "hush", `{"ref":"refs/heads/main"}`
	triggered := 0
	h, err := New([]byte(secret), func() { triggered++ }, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		method string
		body   string
		header map[string]string
		want   int
	}{
		{"github", "POST", body, map[string]string{"X-Hub-Signature-256": "sha256=" + sign(secret, body)}, 202},
		{"gitea", "POST", body, map[string]string{"X-Gitea-Signature": sign(secret, body)}, 202},
		{"gitlab", "POST", body, map[string]string{"X-Gitlab-Token": secret}, 202},
		{"wrong secret", "POST", body, map[string]string{"X-Hub-Signature-256": "sha256=" + sign("other", body)}, 401},
		{"body changed", "POST", body + " ", map[string]string{"X-Hub-Signature-256": "sha256=" + sign(secret, body)}, 401},
		{"no sha256= prefix", "POST", body, map[string]string{"X-Hub-Signature-256": sign(secret, body)}, 401},
		{"not hex", "POST", body, map[string]string{"X-Gitea-Signature": "zz"}, 401},
		{"wrong token", "POST", body, map[string]string{"X-Gitlab-Token": "hus"}, 401},
		{"unsigned", "POST", body, nil, 401},
		{"GET", "GET", "", map[string]string{"X-Gitlab-Token": secret}, 405},
		{"oversized", "POST", strings.Repeat("x", MaxBody+1), map[string]string{"X-Gitlab-Token": secret}, 413},
	} {
		req := httptest.NewRequest(tc.method, "/hook", strings.NewReader(tc.body))
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, rec.Code, tc.want)
		}
	}
	if triggered != 3 {
		t.Errorf("triggered %d times, want 3 (the authentic requests only)", triggered)
	}
}

func TestWebhookRateLimit(t *testing.T) {
	n := 0
	h, err := New([]byte("s"), func() { n++ }, 2)
	if err != nil {
		t.Fatal(err)
	}
	codes := []int{}
	for range 4 {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
		req.Header.Set("X-Gitlab-Token", "s")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		codes = append(codes, rec.Code)
	}
	if codes[0] != 202 || codes[1] != 202 || codes[3] != 429 || n > 3 {
		t.Errorf("codes %v, %d triggers: a burst of 2 then 429", codes, n)
	}
	if _, err := New(nil, func() {}, 1); err == nil {
		t.Error("an empty secret was accepted")
	}
}
