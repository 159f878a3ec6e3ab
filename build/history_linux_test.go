package build

import (
	"github.com/berth-dev/berth/image"
	"slices"
	"testing"
)

// The image's history is written as BuildKit writes it, one entry per
// step (none for ONBUILD), the steps without a layer marked empty.
func TestBuildHistory(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": `FROM busybox
ARG V=1
ENV A=x
WORKDIR /app
COPY --chmod=644 f.txt ./
RUN echo $V > /v
ONBUILD RUN true
USER nobody
EXPOSE 80 53/udp
CMD ["sh"]
`,
		"f.txt": "f\n",
	})
	img, _, err := e.build(t, Options{Context: dir, Args: map[string]string{"V": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := e.store.HistoryOf(img)
	if err != nil {
		t.Fatal(err)
	}
	base, err := e.store.Get("busybox")
	if err != nil {
		t.Fatal(err)
	}
	baseHist, err := e.store.HistoryOf(base)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) < len(baseHist) || !slices.EqualFunc(hist[:len(baseHist)], baseHist, func(a, b image.History) bool { return a.CreatedBy == b.CreatedBy && a.Created.Equal(b.Created) }) {
		t.Fatalf("the base's history is not kept: %+v", hist)
	}
	type row struct {
		by    string
		empty bool
	}
	var got []row
	for _, h := range hist[len(baseHist):] {
		if h.Comment != "buildkit.dockerfile.v0" {
			t.Errorf("%q: comment %q", h.CreatedBy, h.Comment)
		}
		if h.EmptyLayer != (h.Size == 0) {
			t.Errorf("%q: empty %v size %d", h.CreatedBy, h.EmptyLayer, h.Size)
		}
		got = append(got, row{h.CreatedBy, h.EmptyLayer})
	}
	want := []row{
		{"ARG V=2", true},
		{"ENV A=x", true},
		{"WORKDIR /app", false},
		{"COPY --chmod=644 f.txt ./ # buildkit", false},
		{"RUN |1 V=2 /bin/sh -c echo $V > /v # buildkit", false},
		{"USER nobody", true},
		{"EXPOSE [53/udp 80/tcp]", true}, // BuildKit's parser sorts the ports
		{`CMD ["sh"]`, true},
	}
	if !slices.Equal(got, want) {
		t.Errorf("history\n%+v\nwant\n%+v", got, want)
	}
	// Metadata steps get the time of the layer step before them, or of
	// the first one when they come first.
	h := hist[len(baseHist):]
	if !h[0].Created.Equal(h[2].Created) || !h[1].Created.Equal(h[2].Created) || !h[5].Created.Equal(h[4].Created) || !h[7].Created.Equal(h[4].Created) || h[4].Created.Before(h[2].Created) {
		t.Errorf("history times: %+v", h)
	}
}
