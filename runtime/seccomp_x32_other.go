//go:build !amd64

package runtime

// x32ABI: x32 is an amd64 ABI; elsewhere the profile's architectures stay.
func x32ABI() bool { return true }
