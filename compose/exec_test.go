package compose

import (
	"slices"
	"testing"
)

func TestResolveEnv(t *testing.T) {
	t.Setenv("BERTH_TEST_SET", "from-here")
	got := resolveEnv([]string{"A=1", "BERTH_TEST_SET", "BERTH_TEST_UNSET", "B=", "BERTH_TEST_SET=given"})
	want := []string{"A=1", "BERTH_TEST_SET=from-here", "BERTH_TEST_UNSET", "B=", "BERTH_TEST_SET=given"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	if err := exitStatus(0); err != nil {
		t.Errorf("exit 0 is an error: %v", err)
	}
	err := exitStatus(42)
	ee, ok := err.(*ExitError)
	if !ok || ee.Code != 42 || err.Error() != "exit status 42" {
		t.Errorf("exit 42: %#v", err)
	}
}
