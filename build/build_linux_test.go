package build

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth-dev/berth/image"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

func TestBuildInstructions(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{
		"Dockerfile": `ARG BASE=busybox
FROM $BASE
ARG GREETING=hello
ENV APP_HOME=/srv/app NAME="berth builder"
WORKDIR $APP_HOME
COPY greet.sh conf/ ./
COPY --chown=1000:1000 --chmod=0750 greet.sh /opt/tool
RUN echo "${GREETING:-none} from $NAME" > built.txt && id -u > /uid.txt && echo "app:x:1000:1000::/home/app:/bin/sh" >> /etc/passwd
RUN echo "proxy=$HTTP_PROXY" > /proxy.txt
USER app
WORKDIR /home/app/work
RUN touch mine
WORKDIR /srv/app
LABEL org.example.name="demo" version=${GREETING}
EXPOSE 8080 53/udp
VOLUME /data
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD ["true"]
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/bin/sh", "greet.sh"]
CMD ["world"]
`,
		"greet.sh":          "cat built.txt; echo \"hi $1 as $(id -un) in $(pwd)\"; cat settings.ini\n",
		"conf/settings.ini": "debug=1\n",
	})
	img, steps, err := e.build(t, Options{Context: dir, Tag: "demo:1", Args: map[string]string{"GREETING": "howdy", "HTTP_PROXY": "http://proxy.example:3128"}})
	if err != nil {
		t.Fatal(err)
	}
	if img.Ref != "docker.io/library/demo:1" {
		t.Errorf("ref %q", img.Ref)
	}
	c := img.Config
	if slices.ContainsFunc(c.Env, func(s string) bool { return strings.Contains(s, "PROXY") }) {
		t.Errorf("env %q: a predefined proxy ARG persisted", c.Env)
	}
	if c.WorkingDir != "/srv/app" || c.User != "app" || c.StopSignal != "SIGQUIT" {
		t.Errorf("workdir %q user %q stopsignal %q", c.WorkingDir, c.User, c.StopSignal)
	}
	if !slices.Contains(c.Env, "APP_HOME=/srv/app") || !slices.Contains(c.Env, "NAME=berth builder") || slices.ContainsFunc(c.Env, func(s string) bool { return strings.HasPrefix(s, "GREETING") }) {
		t.Errorf("env %q (ARGs must not persist)", c.Env)
	}
	if c.Labels["org.example.name"] != "demo" || c.Labels["version"] != "howdy" {
		t.Errorf("labels %v", c.Labels)
	}
	if !slices.Equal(c.ExposedPorts, []string{"53/udp", "8080/tcp"}) || !slices.Equal(c.Volumes, []string{"/data"}) {
		t.Errorf("ports %v volumes %v", c.ExposedPorts, c.Volumes)
	}
	if want := (&v1.HealthConfig{Test: []string{"CMD", "true"}, Interval: 5 * time.Second, Timeout: 2 * time.Second, Retries: 4}); c.Healthcheck == nil || !slices.Equal(c.Healthcheck.Test, want.Test) || c.Healthcheck.Interval != want.Interval || c.Healthcheck.Retries != 4 {
		t.Errorf("healthcheck %+v", c.Healthcheck)
	}
	if !slices.Equal(c.Entrypoint, []string{"/bin/sh", "greet.sh"}) || !slices.Equal(c.Cmd, []string{"world"}) {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	code, out := e.run(t, img)
	if want := "howdy from berth builder\nhi world as app in /srv/app\ndebug=1\n"; code != 0 || out != want {
		t.Errorf("run: code %d output %q, want %q", code, out, want)
	}
	if code, out := e.run(t, img, "sh", "-c", "stat -c '%u:%g %a' /opt/tool /home/app /home/app/work/mine; cat /uid.txt /proxy.txt"); code != 0 || out != "1000:1000 750\n1000:1000 755\n1000:1000 644\n0\nproxy=http://proxy.example:3128\n" {
		t.Errorf("COPY --chown/--chmod and RUN as root: code %d %q", code, out)
	}
	for _, s := range steps {
		if s.Cached {
			t.Errorf("first build: step %d %q cached", s.Step, s.Instruction)
		}
	}
	// The snapshots a build makes (its upper directories) are what its
	// layers unpack to: the same tree after save and load.
	var archive bytes.Buffer
	if err := e.store.Save(context.Background(), &archive, []string{"demo:1"}, ""); err != nil {
		t.Fatal(err)
	}
	fresh, err := image.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := fresh.Load(context.Background(), &archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := *e
	other.store = fresh
	list := `find / -xdev | grep -v -e '^/$' -e '^/proc$' -e '^/sys$' -e '^/dev$' | sort | while read -r f; do stat -c '%n %f %u:%g %s %Y %h' "$f"; done`
	asRoot := func(i *image.Image) *image.Image { c := *i; c.Config.User = ""; return &c }
	_, built := e.run(t, asRoot(img), "sh", "-c", list)
	_, reloaded := other.run(t, asRoot(&loaded[0]), "sh", "-c", list)
	if built != reloaded || len(built) < 1000 {
		t.Errorf("the built snapshots differ from the saved layers:\n%s\n----\n%s", built, reloaded)
	}
}

func TestBuildHeredocs(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": `FROM busybox
ARG V=x
RUN <<EOF
echo "from heredoc $V" > /h1
EOF
RUN <<EOF
#!/bin/sh
echo "script $0" > /h2
EOF
COPY <<EOT /etc/motd
hello ${V}
EOT
COPY <<'EOT' /raw
keep ${V}
EOT
CMD ["cat", "/h1", "/h2", "/etc/motd", "/raw"]
`})
	img, _, err := e.build(t, Options{Context: dir})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img); code != 0 || out != "from heredoc x\nscript /dev/pipes/EOF\nhello x\nkeep ${V}\n" {
		t.Errorf("run: %d %q", code, out)
	}
}

func TestBuildAddArchive(t *testing.T) {
	e := newEnv(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, f := range []struct{ name, data string }{{"pkg/a.txt", "A\n"}, {"pkg/b.txt", "B\n"}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o640, Size: int64(len(f.data)), Uid: 123, Gid: 45})
		tw.Write([]byte(f.data))
	}
	tw.Close()
	zw.Close()
	dir := writeContext(t, map[string]string{
		"Dockerfile":       "FROM busybox\nADD pkg.tar.gz plain.txt /opt/\nADD sub /opt/sub\n",
		"pkg.tar.gz":       buf.String(),
		"plain.txt":        "plain\n",
		"sub/inner.tar.gz": buf.String(), // inside a source directory: copied, not extracted
	})
	img, _, err := e.build(t, Options{Context: dir})
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.run(t, img, "sh", "-c", "cd /opt && find . | sort && stat -c '%u:%g %a' pkg/a.txt && cat pkg/b.txt plain.txt")
	if want := ".\n./pkg\n./pkg/a.txt\n./pkg/b.txt\n./plain.txt\n./sub\n./sub/inner.tar.gz\n123:45 640\nB\nplain\n"; code != 0 || out != want {
		t.Errorf("ADD: %d\n%s\nwant\n%s", code, out, want)
	}
}

func TestBuildOnbuildAndShell(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nSHELL [\"/bin/sh\", \"-ec\"]\nONBUILD RUN echo triggered > /trig\nONBUILD ENV FROM_TRIGGER=1\n"})
	base, _, err := e.build(t, Options{Context: dir, Tag: "onbase"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(base.Config.OnBuild, []string{"RUN echo triggered > /trig", "ENV FROM_TRIGGER=1"}) || !slices.Equal(base.Config.Shell, []string{"/bin/sh", "-ec"}) {
		t.Errorf("base onbuild %q shell %q", base.Config.OnBuild, base.Config.Shell)
	}
	child, _, err := e.build(t, Options{Context: dir, DockerfileInline: "FROM onbase\nRUN echo $0 > /shell\n"})
	if err != nil {
		t.Fatal(err)
	}
	if len(child.Config.OnBuild) != 0 || !slices.Contains(child.Config.Env, "FROM_TRIGGER=1") {
		t.Errorf("child onbuild %q env %q", child.Config.OnBuild, child.Config.Env)
	}
	if code, out := e.run(t, child, "cat", "/trig"); code != 0 || out != "triggered\n" {
		t.Errorf("trigger: %d %q", code, out)
	}
}

func TestBuildRunMounts(t *testing.T) {
	e := newEnv(t)
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("s3cret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := writeContext(t, map[string]string{"Dockerfile": `FROM busybox
RUN --mount=type=cache,target=/var/cache/app echo run >> /var/cache/app/count && wc -l < /var/cache/app/count > /count
RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = s3cret && echo ok > /secret-ok
RUN --mount=type=tmpfs,target=/scratchpad touch /scratchpad/x
`})
	o := Options{Context: dir, NoCache: true, Secrets: map[string]string{"token": secret}}
	if _, _, err := e.build(t, o); err != nil {
		t.Fatal(err)
	}
	img, _, err := e.build(t, o)
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.run(t, img, "sh", "-c", "cat /count /secret-ok; test -e /run || echo no-run; test -e /scratchpad || echo no-scratchpad; test -e /var/cache/app || echo no-cache-dir")
	if want := "2\nok\nno-run\nno-scratchpad\nno-cache-dir\n"; code != 0 || out != want {
		t.Errorf("mounts: %d %q, want %q", code, out, want)
	}
	if _, _, err := e.build(t, Options{Context: dir, DockerfileInline: "FROM busybox\nRUN --mount=type=secret,id=nope,required true\n"}); !errors.Is(err, ErrNoSecret) {
		t.Errorf("missing required secret: %v", err)
	}
}

func TestBuildRunNetwork(t *testing.T) {
	e := newEnv(t)
	dir := writeContext(t, map[string]string{"Dockerfile": "FROM busybox\nRUN grep -c : /proc/net/dev > /links; cat /etc/resolv.conf > /resolv 2>/dev/null; true\nCMD [\"cat\", \"/links\", \"/resolv\"]\n"})
	img, _, err := e.build(t, Options{Context: dir, NoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	if code, out := e.run(t, img); code != 0 || out != "1\n" {
		t.Errorf("default RUN network: %d %q, want loopback only", code, out)
	}
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 192.0.2.53\n"), 0o644)
	released := 0
	img, _, err = e.build(t, Options{Context: dir, NoCache: true, Network: func(context.Context) (RunNetwork, error) {
		return RunNetwork{NetNS: "host", ResolvConf: resolv, Release: func() { released++ }}, nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.run(t, img)
	if links, resolvOut, _ := strings.Cut(out, "\n"); code != 0 || links == "1" || resolvOut != "nameserver 192.0.2.53\n" || released != 1 {
		t.Errorf("host RUN network: %d %q, released %d", code, out, released)
	}
	if code, out := e.run(t, img, "sh", "-c", "test -e /etc/resolv.conf || echo no-stub"); code != 0 || out != "no-stub\n" {
		t.Errorf("resolv.conf mount point left in the layer: %d %q", code, out)
	}
}
