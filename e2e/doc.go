// Package e2e drives the built berth binary on the stacks in examples/, as a
// user would, and checks the host is left clean.
package e2e
