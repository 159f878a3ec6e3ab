package engine

import (
	"reflect"
	"testing"
)

func TestParsePS(t *testing.T) {
	out := `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 05:01 ?        00:00:03 /sbin/init
root        4242    4200  0 05:40 ?        00:00:00 sh -c while true; do sleep 1; done
1000        4250    4242  1 05:41 pts/0    00:00:01 sleep 1
`
	titles, procs, err := parsePS(out, []int{4242, 4250})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"root", "4242", "4200", "0", "05:40", "?", "00:00:00", "sh -c while true; do sleep 1; done"},
		{"1000", "4250", "4242", "1", "05:41", "pts/0", "00:00:01", "sleep 1"},
	}
	if !reflect.DeepEqual(titles, []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}) || !reflect.DeepEqual(procs, want) {
		t.Fatalf("titles %q\nprocesses %q", titles, procs)
	}
	if _, _, err := parsePS("USER COMMAND\n", nil); err == nil {
		t.Fatal("ps output without a PID column must fail")
	}
}
