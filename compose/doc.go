// Package compose is berth's command-line interface: the cobra command tree,
// project discovery from flags and COMPOSE_* variables, and output (progress
// lines, tables, JSON). It wires the real drivers into the reconciler and
// never touches the kernel itself.
package compose
