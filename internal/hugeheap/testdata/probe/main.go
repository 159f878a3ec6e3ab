// The probe maps anonymous memory through the C library's mmap, as the Go
// runtime does, and prints how many of its pages are resident before it
// touches them: for each size in bytes given after its role, a line
// "SIZE RESIDENT". Its first argument is the role it is run as.
package main

// #include <sys/mman.h>
// static void *anon(size_t n) {
// 	void *p = mmap(0, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
// 	return p == MAP_FAILED ? 0 : p;
// }
import "C"

import (
	"fmt"
	"os"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	_ "github.com/berth-dev/berth/internal/hugeheap"
)

func main() {
	for _, arg := range os.Args[2:] {
		n, err := strconv.Atoi(arg)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		p := C.anon(C.size_t(n))
		if p == nil {
			fmt.Fprintln(os.Stderr, "mmap failed")
			os.Exit(1)
		}
		vec := make([]byte, (n+os.Getpagesize()-1)/os.Getpagesize())
		if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(p), uintptr(n), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
			fmt.Fprintln(os.Stderr, "mincore:", e)
			os.Exit(1)
		}
		resident := 0
		for _, v := range vec {
			resident += int(v & 1)
		}
		fmt.Println(n, resident)
	}
}
