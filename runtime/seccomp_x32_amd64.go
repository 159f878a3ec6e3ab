package runtime

import "golang.org/x/sys/unix"

// x32ABI reports whether the kernel runs x32 system calls (a system call
// number with bit 30 set); most kernels are built or booted without.
func x32ABI() bool {
	_, _, errno := unix.Syscall(0x40000000|unix.SYS_GETPID, 0, 0, 0)
	return errno != unix.ENOSYS
}
