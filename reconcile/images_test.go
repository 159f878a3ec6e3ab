package reconcile

import (
	"errors"
	"strings"
	"testing"
)

// images is an inventory of four images: app with two tags, used (one tag,
// a container), old (dangling) and kept (dangling, a container).
func imageInventory() Inventory {
	return Inventory{Images: []ImageEntry{
		{ID: "sha256:aaaa00000000000000", Ref: "docker.io/library/app:1"},
		{ID: "sha256:aaaa00000000000000", Ref: "docker.io/library/app:latest"},
		{ID: "sha256:bbbb00000000000000", Ref: "docker.io/library/used:1", Users: []string{"shop-web-1"}},
		{ID: "sha256:cccc00000000000000"},
		{ID: "sha256:dddd00000000000000", Users: []string{"shop-db-1"}},
	}}
}

func arg(inv Inventory, name string, i int, byID bool) ImageArg {
	return ImageArg{Name: name, Entry: inv.Images[i], ByID: byID}
}

func TestPlanRemoveImagesGolden(t *testing.T) {
	inv := imageInventory()
	f := newFakeHost()
	p, err := PlanRemoveImages(inv, []ImageArg{arg(inv, "app:1", 0, false)}, false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, f, p, "- untag image docker.io/library/app:1 (image rm, the image has other references)\nPlan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to untag, 0 to remove.\n")

	// Both tags: the second takes the image, and its layers, with it.
	p, err = PlanRemoveImages(inv, []ImageArg{arg(inv, "app:1", 0, false), arg(inv, "app", 1, false)}, false)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, f, p, `- untag image docker.io/library/app:1 (image rm, the image has other references)
- remove image docker.io/library/app:latest (image rm)
- delete image layers nothing uses (image rm)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to untag, 1 to remove.
`)
	if c := f.calls(); c[len(c)-1] != "collect" {
		t.Errorf("the layers must be collected after the untags: %v", c)
	}
}

func TestPlanRemoveImagesRefusals(t *testing.T) {
	inv := imageInventory()
	cases := []struct {
		args  []ImageArg
		force bool
		want  string // in the error; "" for none
		plan  string // the targets planned, in order
	}{
		{[]ImageArg{arg(inv, "used:1", 2, false)}, false, `conflict: unable to remove repository reference "used:1" (must force) - container shop-web-1 is using its referenced image bbbb00000000`, ""},
		{[]ImageArg{arg(inv, "used:1", 2, false)}, true, "", "untag docker.io/library/used:1"},
		{[]ImageArg{arg(inv, "aaaa", 0, true)}, false, "unable to delete aaaa00000000 (must be forced) - image is referenced in multiple repositories", ""},
		{[]ImageArg{arg(inv, "aaaa", 0, true)}, true, "", "untag docker.io/library/app:1, remove docker.io/library/app:latest, collect"},
		{[]ImageArg{arg(inv, "dddd", 4, true)}, false, "image is being used by container shop-db-1", ""},
		{[]ImageArg{arg(inv, "cccc", 3, true), arg(inv, "cccc0", 3, true)}, false, "", "remove sha256:cccc00000000000000, collect"},
		{[]ImageArg{{Name: "nope", Err: errString("image \"nope\": not found")}, arg(inv, "cccc", 3, true)}, false, `image "nope": not found`, "remove sha256:cccc00000000000000, collect"},
	}
	for _, c := range cases {
		p, err := PlanRemoveImages(inv, c.args, c.force)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v force=%v: error %v, want %q", c.args, c.force, err, c.want)
		}
		if got := targets(p); got != c.plan {
			t.Errorf("%+v force=%v: planned %q, want %q", c.args, c.force, got, c.plan)
		}
	}
}

func TestPlanPruneImagesGolden(t *testing.T) {
	inv := imageInventory()
	golden(t, newFakeHost(), PlanPruneImages(inv, false), `- remove image sha256:cccc00000000000000 (dangling, no container uses it)
- delete image layers nothing uses (image prune)
Plan: 0 to pull, 0 to create, 0 to recreate, 0 to start, 1 to remove.
`)
	if got := targets(PlanPruneImages(inv, true)); got != "untag docker.io/library/app:1, remove docker.io/library/app:latest, remove sha256:cccc00000000000000, collect" {
		t.Errorf("prune -a planned %s", got)
	}
	if got := targets(PlanPruneImages(Inventory{}, true)); got != "collect" {
		t.Errorf("a prune always collects leftovers: %s", got)
	}
}

// targets is a plan's image actions in short: "untag REF", "remove REF", "collect".
func targets(p Plan) string {
	var out []string
	for _, a := range p.Actions {
		switch {
		case a.Kind == CollectImages:
			out = append(out, "collect")
		case a.Image.Last:
			out = append(out, "remove "+a.Target)
		default:
			out = append(out, "untag "+a.Target)
		}
	}
	return strings.Join(out, ", ")
}

type errString string

func (e errString) Error() string { return string(e) }

func TestDownImages(t *testing.T) {
	p := testProject()
	if names, err := DownImages(p, "all"); err != nil || strings.Join(names, ",") != "busybox,web:1" {
		t.Errorf("--rmi all: %v %v", names, err)
	}
	if names, err := DownImages(p, "local"); err != nil || len(names) != 0 {
		t.Errorf("--rmi local with no built images: %v %v", names, err)
	}
	if _, err := DownImages(p, "some"); err == nil || !strings.Contains(err.Error(), "--rmi") {
		t.Errorf("--rmi some: %v", err)
	}
	inv := imageInventory()
	plan, err := PlanDownImages(inv, []ImageArg{arg(inv, "app:1", 0, false), arg(inv, "used:1", 2, false),
		{Name: "gone", Missing: true, Err: errors.New("no such image")}})
	if err == nil || !strings.Contains(err.Error(), "container shop-web-1 is using") {
		t.Errorf("an image another container uses stays, with Docker's error: %v", err)
	}
	if got := targets(plan); got != "untag docker.io/library/app:1" {
		t.Errorf("down --rmi plans %q", got)
	}
}
