// Command counter is the stateful service of the hello example: each POST
// adds one to a count kept in /data/count (a named volume) and returns it.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const file = "/data/count"

func main() {
	var mu sync.Mutex
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		b, _ := os.ReadFile(file)
		n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if r.Method == http.MethodPost {
			n++
			if err := writeSync(file, []byte(strconv.Itoa(n)+"\n")); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		fmt.Fprintln(w, n)
	})
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		s := <-sig
		log.Printf("counter: %v, stopping", s)
		os.Exit(0)
	}()
	log.Print("counter listening on :9000")
	log.Fatal(http.ListenAndServe(":9000", nil))
}

// writeSync replaces path's content durably: temp file, fsync, rename.
func writeSync(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
