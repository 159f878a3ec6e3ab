package e2e

import (
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-dev/berth/engine"
	"github.com/berth-dev/berth/internal/testutil"
)

// pull of some services, with their dependencies, with --policy, with
// failures ignored; push of a service's image to the registry.
func TestPullAndPushServices(t *testing.T) {
	testutil.RequiresRoot(t)
	testutil.CheckLeaks(t)
	host := testutil.Registry(t, nil)
	for _, ref := range []string{host + "/lib/base:1", host + "/lib/app:latest"} {
		testutil.PushBusybox(t, ref, []string{"sleep", "1000"}, nil)
	}
	stack := `
services:
  base:
    image: ` + host + `/lib/base:1
  app:
    image: ` + host + `/lib/app:latest
    depends_on: [base]
`
	u := newUser(t, project(t, stack))
	t.Cleanup(func() {
		u.try("down", "-t", "0")
		testutil.RemoveCgroupParent(t, engine.HostName(u.root))
	})
	if out := u.run("pull", "app"); !strings.Contains(out, "lib/app:latest") || strings.Contains(out, "lib/base") {
		t.Fatalf("pull app pulls app's image only:\n%s", out)
	}
	if out := u.run("pull", "--include-deps", "app"); !strings.Contains(out, "lib/base:1") {
		t.Fatalf("pull --include-deps app pulls base's image too:\n%s", out)
	}
	if out := u.run("pull", "--policy", "missing"); strings.Contains(out, "lib/base:1") || !strings.Contains(out, "lib/app:latest") {
		t.Fatalf("pull --policy missing refreshes only the latest tag:\n%s", out)
	}
	if out, err := u.try("pull", "--policy", "sometimes"); err == nil || !strings.Contains(out, "--policy") {
		t.Fatalf("pull --policy sometimes: %v\n%s", err, out)
	}

	// A missing image fails the pull, unless ignored.
	broken := newUser(t, project(t, stack+"  gone:\n    image: "+host+"/lib/gone:1\n"))
	broken.env, broken.root = u.env, u.root
	if _, err := broken.try("pull"); err == nil {
		t.Fatal("a pull of a missing image succeeded")
	}
	if _, errs, code := broken.split("", "pull", "--ignore-pull-failures"); code != 0 || !strings.Contains(errs, "lib/gone:1") {
		t.Fatalf("pull --ignore-pull-failures: exit %d, %q", code, errs)
	}

	// push: a locally tagged image reaches the registry.
	pushed := host + "/lib/pushed:2"
	u.run("image", "tag", host+"/lib/base:1", pushed)
	pusher := newUser(t, project(t, "services:\n  p:\n    image: "+pushed+"\n"))
	pusher.env, pusher.root = u.env, u.root
	ref, err := name.ParseReference(pushed, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := remote.Head(ref); err == nil {
		t.Fatal("the image is in the registry before the push")
	}
	pusher.run("push")
	if _, err := remote.Head(ref); err != nil {
		t.Fatalf("push did not reach the registry: %v", err)
	}
}
