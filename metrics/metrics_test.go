package metrics

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/reconcile"
)

func TestLoopMetrics(t *testing.T) {
	l := New("shop")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := l.Serve(ln)
	defer stop()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	plan := reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.Create}, {Kind: reconcile.Start}}}
	l.Pass(reconcile.Pass{Plan: plan}, 20*time.Millisecond, false)
	l.Pass(reconcile.Pass{}, time.Millisecond, false)
	l.Pass(reconcile.Pass{Plan: reconcile.Plan{Actions: []reconcile.Action{{Kind: reconcile.Start}}}}, time.Millisecond, true)
	l.Applied("abc")
	l.Applied("def")
	l.RolledBack()
	if code, _ := get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d after good passes", code)
	}
	_, body := get("/metrics")
	for _, want := range []string{
		`berth_reconcile_passes_total{project="shop",result="applied"} 2`,
		`berth_reconcile_passes_total{project="shop",result="converged"} 1`,
		`berth_reconcile_actions_total{kind="start",project="shop"} 2`,
		`berth_reconcile_drift_repairs_total{kind="start",project="shop"} 1`,
		`berth_reconcile_applied_commit_info{commit="def",project="shop"} 1`,
		`berth_reconcile_rollbacks_total{project="shop"} 1`,
		`berth_reconcile_pass_duration_seconds_count{project="shop"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, `commit="abc"`) {
		t.Error("the previous commit is still reported as applied")
	}
	if strings.Contains(body, `drift_repairs_total{kind="create"`) {
		t.Error("a pass applying a new stack was counted as drift repair")
	}
	l.Pass(reconcile.Pass{Err: errors.New("boom")}, time.Millisecond, false)
	if code, _ := get("/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("/healthz = %d after a failed pass", code)
	}
}
