// Package kubecli carries out the Kubernetes forms of berth's commands
// (kube render; plan, up, down, ps and reconcile --kube) with package kube
// and client-go. It is linked into berth-kube only: berth parses and
// checks the command line, then execs berth-kube, so that client-go adds
// neither size nor start-up time to every berth command.
package kubecli
