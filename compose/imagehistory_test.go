package compose

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/image"
)

func TestImageHistoryRows(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	hist := []image.History{
		{Created: now.Add(-30 * 24 * time.Hour), CreatedBy: "BusyBox 1.36.1 (glibc), Debian 12", Size: 4_261_550},
		{Created: now.Add(-2 * time.Hour), CreatedBy: "RUN /bin/sh -c echo a very long command that goes on and on # buildkit", Comment: "buildkit.dockerfile.v0", Size: 12},
		{Created: now.Add(-2 * time.Hour), CreatedBy: "CMD [\"sh\"]", Comment: "buildkit.dockerfile.v0", EmptyLayer: true},
	}
	id := "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	var b bytes.Buffer
	if err := imageHistory.render(&b, "table", historyRows(id, hist, now, true, true)); err != nil {
		t.Fatal(err)
	}
	want := "IMAGE          CREATED       CREATED BY                                      SIZE      COMMENT\n" +
		"0123456789ab   2 hours ago   CMD [\"sh\"]                                      0B        buildkit.dockerfile.v0\n" +
		"<missing>      2 hours ago   RUN /bin/sh -c echo a very long command that…   12B       buildkit.dockerfile.v0\n" +
		"<missing>      4 weeks ago   BusyBox 1.36.1 (glibc), Debian 12               4.26MB    \n"
	if b.String() != want {
		t.Errorf("table:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	imageHistory.render(&b, "{{.ID}}", historyRows(id, hist, now, true, false))
	if lines := strings.Split(strings.TrimSpace(b.String()), "\n"); len(lines) != 3 || lines[0] != id || lines[1] != "<missing>" {
		t.Errorf("--no-trunc -q: %q", lines)
	}
	b.Reset()
	imageHistory.render(&b, "json", historyRows(id, hist[2:], now, false, true))
	if want := `{"Comment":"buildkit.dockerfile.v0","CreatedAt":"` + hist[2].Created.Local().Format(time.RFC3339) + `","CreatedBy":"CMD [\"sh\"]","CreatedSince":"` + hist[2].Created.Local().Format(time.RFC3339) + `","ID":"0123456789ab","Size":"0"}` + "\n"; b.String() != want {
		t.Errorf("json:\n%s\nwant\n%s", b.String(), want)
	}
}
