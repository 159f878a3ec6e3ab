package runtime

import (
	"regexp"
	"testing"
)

// validID accepts exactly what the pattern it replaced accepts.
func TestValidIDAsPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9_+\-.]+$`)
	cases := []string{"", ".", "..", "a", "web-1", "p_s+1.x", "a b", "a/b", "a\n", "\na", "é", "a\x00", "ABC09", "-", "a:b", "a$", "[a]"}
	for c := range 256 {
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for _, s := range cases {
		if got, want := validID(s), pattern.MatchString(s); got != want {
			t.Errorf("validID(%q) = %t, the pattern says %t", s, got, want)
		}
	}
}
