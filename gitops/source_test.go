package gitops

import "testing"

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:tok@h/r.git": "https://h/r.git",
		"https://tok@h/r.git":      "https://h/r.git",
		"ssh://git:pw@h/r.git":     "ssh://git@h/r.git",
		"git@h:r.git":              "git@h:r.git",
		"/srv/stacks.git":          "/srv/stacks.git",
		"https://h/r.git":          "https://h/r.git",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}
