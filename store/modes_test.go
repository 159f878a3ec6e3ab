package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The database and its -wal and -shm are 0600 whatever the umask, and an
// older root's 0644 database is made 0600 when opened.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "berth.db"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, root)
	if err := s.PutContainer(context.Background(), Container{ID: NewID(), Name: "p-a-1", Project: "p", Service: "a", Spec: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"berth.db", "berth.db-wal", "berth.db-shm"} {
		fi, err := os.Stat(filepath.Join(root, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want 0600", f, fi.Mode(), err)
		}
	}
}

// A name another project's container holds is refused; the project's own
// record is replaced.
func TestPutContainerRefusesAnotherProjectsName(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	first := Container{ID: NewID(), Name: "web-app-db-1", Project: "web-app", Service: "db", Spec: []byte("{}"), CreatedAt: time.Now()}
	if err := s.PutContainer(ctx, first); err != nil {
		t.Fatal(err)
	}
	err := s.PutContainer(ctx, Container{ID: NewID(), Name: "web-app-db-1", Project: "web", Service: "app-db", Spec: []byte("{}"), CreatedAt: time.Now()})
	if !errors.Is(err, ErrNameInUse) {
		t.Fatalf("another project's name: %v", err)
	}
	if got, _ := s.Container(ctx, "web-app-db-1"); got.ID != first.ID {
		t.Errorf("the first project's record changed: %+v", got)
	}
	if err := s.PutContainer(ctx, Container{ID: NewID(), Name: "web-app-db-1", Project: "web-app", Service: "db", Spec: []byte("{}"), CreatedAt: time.Now()}); err != nil {
		t.Errorf("the project's own name: %v", err)
	}
}
