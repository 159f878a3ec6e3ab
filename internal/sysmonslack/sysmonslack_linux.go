//go:build linux && cgo

package sysmonslack

// #cgo LDFLAGS: -Wl,--wrap=pthread_create
import "C"
