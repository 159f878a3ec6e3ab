package compose

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/berth-dev/berth/engine"
)

// terminalFile is the terminal behind r or w, or nil when it is none.
func terminalFile(rw any) *os.File {
	f, ok := rw.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return f
}

// makeRaw puts the terminal f into raw mode, so that every key (Ctrl-C
// too) reaches the process at the other end, and returns what restores it.
func makeRaw(f *os.File) (restore func(), err error) {
	state, err := term.MakeRaw(int(f.Fd()))
	if err != nil {
		return nil, err
	}
	return func() { _ = term.Restore(int(f.Fd()), state) }, nil
}

// terminalSize is the size of terminal f, zero when unknown.
func terminalSize(f *os.File) engine.WinSize {
	cols, rows, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 || rows <= 0 {
		return engine.WinSize{}
	}
	return engine.WinSize{Rows: uint16(rows), Cols: uint16(cols)}
}

// followSize sends the size of terminal f on each SIGWINCH, until stop.
func followSize(f *os.File) (sizes <-chan engine.WinSize, stop func()) {
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	out := make(chan engine.WinSize, 1)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-winch:
			}
			if sz := terminalSize(f); sz != (engine.WinSize{}) {
				select {
				case out <- sz:
				case <-done:
					return
				}
			}
		}
	}()
	return out, func() { signal.Stop(winch); close(done) }
}

// forwardedSignals are the signals berth passes on to a process it runs
// for the user rather than dying of them.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// catchSignals delivers forwardedSignals on the returned channel until stop.
func catchSignals() (sigs <-chan os.Signal, stop func()) {
	ch := make(chan os.Signal, 8)
	signal.Notify(ch, forwardedSignals...)
	return ch, func() { signal.Stop(ch) }
}
