// Package kube maps a berth stack (spec.Project) to Kubernetes objects and
// applies them to a cluster. Render is pure and deterministic: the same
// project and options give the same objects, byte for byte; what the
// mapping cannot express is refused with an error naming file, line and
// key. The cluster side (plan, apply, prune, status) uses client-go with
// server-side apply under the field manager "berth"; docs/kube.md has the
// mapping table.
package kube
