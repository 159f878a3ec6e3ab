package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-dev/berth/internal/testutil"
)

// The image commands as Docker users know them: ls and inspect in Docker's
// shapes, save and load in both archive formats, push and pull through a
// registry, tag, rm refusing an image in use, prune keeping it.
func TestImageCommands(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	u := busyboxProject(t, "services:\n  app:\n    image: berth-e2e/busybox:1\n    command: [sleep, '1000']\n", "-v", "-t", "0")

	var row map[string]any
	if err := json.Unmarshal([]byte(strings.Split(u.run("image", "ls", "--format", "json"), "\n")[0]), &row); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"ID", "Repository", "Tag", "Digest", "Size", "CreatedAt"} {
		if _, ok := row[k]; !ok {
			t.Errorf("image ls --format json lacks %s: %v", k, row)
		}
	}
	if row["Repository"] != "docker.io/berth-e2e/busybox" || row["Tag"] != "1" {
		t.Errorf("image ls: %v", row)
	}
	var inspect []map[string]any
	if err := json.Unmarshal([]byte(u.run("image", "inspect", "berth-e2e/busybox:1")), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("image inspect: %v", err)
	}
	for _, k := range []string{"Id", "RepoTags", "RepoDigests", "Config", "RootFS"} {
		if _, ok := inspect[0][k]; !ok {
			t.Errorf("image inspect lacks %s", k)
		}
	}
	id := inspect[0]["Id"].(string)

	// history: newest first, the newest row naming the image.
	hist := strings.Split(strings.TrimSpace(u.run("image", "history", "berth-e2e/busybox:1")), "\n")
	if len(hist) < 2 || !strings.HasPrefix(hist[0], "IMAGE          CREATED ") || !strings.HasPrefix(hist[1], strings.TrimPrefix(id, "sha256:")[:12]+" ") {
		t.Errorf("image history:\n%s", strings.Join(hist, "\n"))
	}
	if q := strings.Split(strings.TrimSpace(u.run("image", "history", "-q", "--no-trunc", "berth-e2e/busybox:1")), "\n"); len(q) != len(hist)-1 || q[0] != id {
		t.Errorf("image history -q --no-trunc: %q", q)
	}
	if out, err := u.try("image", "history", "berth-e2e/nothere"); err == nil || !strings.Contains(out, "berth-e2e/nothere") {
		t.Errorf("history of a missing image: %v %s", err, out)
	}

	// save and load, both formats, into a fresh root: the same image ID.
	for _, format := range []string{"docker", "oci"} {
		archive := filepath.Join(t.TempDir(), "img.tar")
		u.run("image", "save", "--format", format, "-o", archive, "berth-e2e/busybox:1")
		// A failed save leaves the archive as it was; neither leaves a
		// temporary file beside it.
		if out, err := u.try("image", "save", "--format", format, "-o", archive, "berth-e2e/nothere"); err == nil {
			t.Errorf("save of a missing image: %s", out)
		}
		if ents, err := os.ReadDir(filepath.Dir(archive)); err != nil || len(ents) != 1 || ents[0].Name() != "img.tar" {
			t.Errorf("beside the archive: %v, %v", ents, err)
		}
		other := newUser(t, u.dir)
		if out := other.run("image", "load", "-i", archive); !strings.Contains(out, "Loaded image: docker.io/berth-e2e/busybox:1") {
			t.Fatalf("%s load: %s", format, out)
		}
		var got []map[string]any
		json.Unmarshal([]byte(other.run("image", "inspect", "berth-e2e/busybox:1")), &got)
		if len(got) != 1 || got[0]["Id"] != id {
			t.Fatalf("%s round trip changed the image ID: %v, want %s", format, got, id)
		}
	}

	// push to a registry, pull into a fresh root: the same digest.
	remote := testutil.Registry(t, nil) + "/e2e/busybox:1"
	u.run("image", "tag", "berth-e2e/busybox:1", remote)
	u.run("image", "push", remote)
	other := newUser(t, u.dir)
	other.run("image", "pull", remote)
	var pushed, pulled []map[string]any
	json.Unmarshal([]byte(u.run("image", "inspect", remote)), &pushed)
	json.Unmarshal([]byte(other.run("image", "inspect", remote)), &pulled)
	if len(pulled) != 1 || pulled[0]["Id"] != id || !sameStrings(pulled[0]["RepoDigests"], pushed[0]["RepoDigests"]) {
		t.Fatalf("push then pull: %v vs %v", pulled, pushed)
	}

	// An image in use is neither removed nor pruned.
	u.run("up", "-d")
	if out := u.run("image", "rm", remote); out != "Untagged: "+remote+"\n" { // one of two tags: only untagged, as Docker does
		t.Fatalf("rm of one of two tags printed %q", out)
	}
	if out, err := u.try("image", "rm", "berth-e2e/busybox:1"); err == nil || !strings.Contains(out, "is using its referenced image "+strings.TrimPrefix(id, "sha256:")[:12]) {
		t.Fatalf("rm of the last tag of an image in use: %v\n%s", err, out)
	}
	u.run("image", "prune", "-a", "-f")
	if out := u.run("image", "ls", "-q"); !strings.Contains(out, strings.TrimPrefix(id, "sha256:")[:12]) {
		t.Fatalf("prune -a removed the image in use:\n%s", out)
	}
	u.run("down", "-t", "0")
	if out := u.run("image", "prune", "-a", "-f"); !strings.Contains(out, "untagged: docker.io/berth-e2e/busybox:1\ndeleted: "+id+"\n") || strings.Contains(out, "Total reclaimed space: 0B") {
		t.Fatalf("prune -a of the unused image printed:\n%s", out)
	}
	if out := strings.TrimSpace(u.run("image", "ls", "-q")); out != "" {
		t.Fatalf("prune -a left unused images: %q", out)
	}
}

func sameStrings(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y) && string(x) != "null" && string(x) != "[]"
}
