// Package spec is berth's desired-state model: it loads compose files
// through compose-go, converts them into berth's own Project, Service,
// Network and Volume types, validates and normalises them, and computes the
// canonical per-service config hash. It does no I/O beyond reading the stack
// files.
package spec
