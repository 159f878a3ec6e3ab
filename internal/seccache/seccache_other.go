//go:build !linux || !cgo || !seccomp

package seccache

import (
	"os"

	"github.com/opencontainers/runc/libcontainer/configs"
)

// Enabled: this binary tracks libseccomp's calls (built with libseccomp).
const Enabled = false

// Arm does nothing in a binary without libseccomp.
func Arm() {}

// Offer is nothing in a binary without libseccomp.
type Offer struct{}

// NewOffer offers nothing in a binary without libseccomp.
func NewOffer(string, *configs.Seccomp) (*Offer, error) { return nil, nil }

// Close does nothing.
func (*Offer) Close() {}

// Collect does nothing.
func (*Offer) Collect() {}

// File is nil.
func (*Offer) File() *os.File { return nil }
