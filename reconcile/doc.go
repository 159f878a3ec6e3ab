// Package reconcile observes what berth runs on the host, plans the
// difference to a spec.Project as a list of actions each with its reason,
// and applies a plan as a dependency graph through small driver interfaces.
// Plan is pure: no I/O, no clock, stable order.
package reconcile
