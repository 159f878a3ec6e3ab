// Command hello is the static HTTP server of bench/compare.sh's published
// port row: it listens on :80 (or the first argument) and answers every
// request at once, so that the row measures berth, not the server's own
// start.
package main

import (
	"log"
	"net/http"
	"os"
)

func main() {
	addr := ":80"
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.Fatal(http.ListenAndServe(addr, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("hello\n"))
	})))
}
