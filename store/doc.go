// Package store keeps berth's metadata in SQLite (WAL mode) under the root
// directory, and the per-project lock that serialises two runs of berth on
// one project.
package store
