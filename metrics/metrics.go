// Package metrics exposes the reconcile loop to Prometheus: passes by
// result, the actions applied by kind and those that repaired drift (no
// new commit asked for them), rollbacks, the last fetch and apply times,
// the applied commit, and a histogram of pass durations. It serves them
// on /metrics beside a /healthz that fails while the last pass failed.
package metrics

import (
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/berth-dev/berth/reconcile"
)

// Loop holds the metrics of one reconcile loop.
type Loop struct {
	reg          *prometheus.Registry
	passes       *prometheus.CounterVec
	actions      *prometheus.CounterVec
	driftRepairs *prometheus.CounterVec
	rollbacks    prometheus.Counter
	lastFetch    prometheus.Gauge
	lastApply    prometheus.Gauge
	commit       *prometheus.GaugeVec
	duration     prometheus.Histogram
	healthy      atomic.Bool
}

// New returns the metrics of the loop of project.
func New(project string) *Loop {
	labels := prometheus.Labels{"project": project}
	l := &Loop{
		reg: prometheus.NewRegistry(),
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_reconcile_passes_total",
			Help: "Reconcile passes, by result (converged, applied, failed).", ConstLabels: labels}, []string{"result"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_reconcile_actions_total",
			Help: "Actions applied, by kind.", ConstLabels: labels}, []string{"kind"}),
		driftRepairs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "berth_reconcile_drift_repairs_total",
			Help: "Actions that repaired drift of the host from the applied stack, by kind.", ConstLabels: labels}, []string{"kind"}),
		rollbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "berth_reconcile_rollbacks_total",
			Help: "Commits not applied or rolled back.", ConstLabels: labels}),
		lastFetch: prometheus.NewGauge(prometheus.GaugeOpts{Name: "berth_reconcile_last_fetch_timestamp_seconds",
			Help: "When the repository was last fetched.", ConstLabels: labels}),
		lastApply: prometheus.NewGauge(prometheus.GaugeOpts{Name: "berth_reconcile_last_apply_timestamp_seconds",
			Help: "When a pass last changed the host.", ConstLabels: labels}),
		commit: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "berth_reconcile_applied_commit_info",
			Help: "The commit the host runs (value 1).", ConstLabels: labels}, []string{"commit"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "berth_reconcile_pass_duration_seconds",
			Help: "How long passes took.", ConstLabels: labels,
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}}),
	}
	l.reg.MustRegister(l.passes, l.actions, l.driftRepairs, l.rollbacks, l.lastFetch, l.lastApply, l.commit, l.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	l.healthy.Store(true)
	return l
}

// Pass records one pass that took d; drift says its actions repaired
// drift rather than applied a new stack.
func (l *Loop) Pass(p reconcile.Pass, d time.Duration, drift bool) {
	kinds := make([]string, len(p.Plan.Actions))
	for i, a := range p.Plan.Actions {
		kinds[i] = string(a.Kind)
	}
	l.Record(kinds, p.Err, d, drift)
}

// Record is Pass for a pass of any loop, given the kind of each action it
// applied (reconcile --kube's are create, update, replace and delete) or
// the error it failed with.
func (l *Loop) Record(kinds []string, passErr error, d time.Duration, drift bool) {
	l.duration.Observe(d.Seconds())
	l.healthy.Store(passErr == nil)
	switch {
	case passErr != nil:
		l.passes.WithLabelValues("failed").Inc()
		return
	case len(kinds) == 0:
		l.passes.WithLabelValues("converged").Inc()
		return
	}
	l.passes.WithLabelValues("applied").Inc()
	l.lastApply.SetToCurrentTime()
	for _, k := range kinds {
		l.actions.WithLabelValues(k).Inc()
		if drift {
			l.driftRepairs.WithLabelValues(k).Inc()
		}
	}
}

// Fetched records a fetch of the repository.
func (l *Loop) Fetched() { l.lastFetch.SetToCurrentTime() }

// Applied records the commit the host runs now.
func (l *Loop) Applied(commit string) {
	l.commit.Reset()
	l.commit.WithLabelValues(commit).Set(1)
}

// RolledBack records a commit that was not applied or was rolled back.
func (l *Loop) RolledBack() { l.rollbacks.Inc() }

// Serve serves /metrics and /healthz on ln until the returned stop is
// called.
func (l *Loop) Serve(ln net.Listener) (stop func()) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(l.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		if !l.healthy.Load() {
			http.Error(w, "the last pass failed", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok\n"))
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return func() { srv.Close() }
}
