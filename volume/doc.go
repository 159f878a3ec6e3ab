// Package volume manages named volumes under berth's root directory and checks bind mounts and tmpfs mounts before a container uses them.
package volume
