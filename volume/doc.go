// Package volume manages named volumes under berth's root directory (plain
// directories, host directories bound through the local driver's
// driver_opts, tmpfs volumes), checks bind mounts before a container uses
// them, fills a new volume with the image's content at its mount path
// (Docker's copy-up) and writes the files that configs and secrets are bind-
// mounted from.
package volume
