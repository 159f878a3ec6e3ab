// Command web is the front service of the hello example: it answers every
// HTTP request with a greeting and the visit number it gets from the counter
// service, reached by its service name.
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	counter := os.Getenv("COUNTER_URL")
	greeting := os.Getenv("GREETING")
	client := &http.Client{Timeout: 5 * time.Second}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		resp, err := client.Post(counter, "text/plain", nil)
		if err != nil {
			http.Error(w, "counter unreachable: "+err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		n, _ := io.ReadAll(resp.Body)
		host, _ := os.Hostname()
		fmt.Fprintf(w, "%s! You are visitor %s (served by %s)\n", greeting, strings.TrimSpace(string(n)), host)
	})
	log.Printf("web listening on :8080, counter at %s", counter)
	log.Fatal(http.ListenAndServe(":8080", nil))
}
