package reconcile

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-dev/berth/spec"
)

// ImageEntry is one entry of the local image store: a reference to an
// image, or an image's untagged entry (Ref ""), with the containers that
// use the image.
type ImageEntry struct {
	ID    string   // the image ID, "sha256:…"
	Ref   string   // the normalised reference; "" for a dangling image
	Users []string // the containers created from the image
	// Last is set on an Untag action whose entry is the image's last and
	// whose image no container uses: the image goes with it.
	Last bool
}

// ImageArg is one argument of `image rm`, looked up in the store.
type ImageArg struct {
	Name  string     // as the user wrote it
	Entry ImageEntry // the entry it names (ID and Ref)
	ByID  bool       // it named the image by ID, not by a reference
	Err   error      // the lookup failed: no such image, or an ambiguous ID
	// Missing says the store has no such image (Err says so too).
	Missing bool
}

// DownImages names the images `down --rmi MODE` removes, as Docker
// Compose picks them: with "all" every service's image, with "local" only
// the images built for services without image: (berth builds none yet,
// so none).
func DownImages(p *spec.Project, mode string) ([]string, error) {
	switch mode {
	case "local": // the images built without an image: name
		var names []string
		for _, svc := range p.Services {
			if svc.Build != nil && svc.Image == spec.DefaultImageName(p.Name, svc.Name) && !slices.Contains(names, svc.Image) {
				names = append(names, svc.Image)
			}
		}
		return names, nil
	case "all":
		var names []string
		for _, svc := range p.Services {
			if !slices.Contains(names, svc.Image) {
				names = append(names, svc.Image)
			}
		}
		return names, nil
	}
	return nil, fmt.Errorf(`--rmi %q: must be "local" or "all"`, mode)
}

// PlanDownImages is the plan of `down --rmi`: each of args the store has
// is removed as `image rm` without force removes it (untagged, and
// deleted once nothing else names or uses it); the others are skipped.
func PlanDownImages(inv Inventory, args []ImageArg) (Plan, error) {
	present := slices.DeleteFunc(slices.Clone(args), func(a ImageArg) bool { return a.Missing })
	return PlanRemoveImages(inv, present, false)
}

// PlanRemoveImages is the plan of `image rm`, with Docker's rules: a
// reference of an image with other references is only untagged; the last
// reference of an image a container uses, and an ID with several
// references or a container using it, need force; an image with no
// reference left and no container using it is deleted, and the layers
// nothing needs any more go with it. A problem with one argument is in the
// error returned beside the plan, which removes the rest.
func PlanRemoveImages(inv Inventory, args []ImageArg, force bool) (Plan, error) {
	var p Plan
	var errs []error
	gone := map[string]bool{} // entries planned out, by entryKey
	untag := func(e ImageEntry, reason string) {
		if gone[entryKey(e)] {
			return
		}
		gone[entryKey(e)] = true
		left := slices.ContainsFunc(inv.Images, func(o ImageEntry) bool { return o.ID == e.ID && !gone[entryKey(o)] })
		e.Last = !left && len(e.Users) == 0
		p.Actions = append(p.Actions, untagAction(e, reason))
	}
	for _, a := range args {
		if a.Err != nil {
			errs = append(errs, a.Err)
			continue
		}
		entries := imageEntries(inv, a.Entry.ID)
		if len(entries) == 0 {
			errs = append(errs, fmt.Errorf("no such image: %s", a.Name))
			continue
		}
		users := imageUsers(entries)
		short := shortImageID(a.Entry.ID)
		refs := slices.DeleteFunc(slices.Clone(entries), func(e ImageEntry) bool { return e.Ref == "" })
		others := slices.ContainsFunc(entries, func(e ImageEntry) bool { return e.Ref != a.Entry.Ref && !gone[entryKey(e)] })
		switch {
		case !a.ByID && others:
			untag(entryOf(entries, a.Entry.Ref), "image rm, the image has other references")
		case !a.ByID && len(users) > 0 && !force:
			errs = append(errs, fmt.Errorf("conflict: unable to remove repository reference %q (must force) - container %s is using its referenced image %s", a.Name, users[0], short))
		case !a.ByID:
			untag(entryOf(entries, a.Entry.Ref), "image rm")
		case len(refs) > 1 && !force:
			errs = append(errs, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is referenced in multiple repositories", short))
		case len(users) > 0 && !force:
			errs = append(errs, fmt.Errorf("conflict: unable to delete %s (must be forced) - image is being used by container %s", short, users[0]))
		default:
			for _, e := range entries {
				untag(e, "image rm "+short)
			}
		}
	}
	if slices.ContainsFunc(p.Actions, func(a Action) bool { return a.Image.Last }) {
		p.Actions = append(p.Actions, collectAction(p.Actions, "image rm"))
	}
	return p, errors.Join(errs...)
}

// PlanPruneImages is the plan of `image prune`: every dangling image no
// container uses (with all, every image no container uses), then the
// layers nothing needs any more.
func PlanPruneImages(inv Inventory, all bool) Plan {
	var p Plan
	for i, e := range inv.Images {
		entries := imageEntries(inv, e.ID)
		switch {
		case len(imageUsers(entries)) > 0:
		case e.Ref == "":
			e.Last = len(entries) == 1
			p.Actions = append(p.Actions, untagAction(e, "dangling, no container uses it"))
		case all:
			e.Last = !slices.ContainsFunc(inv.Images[i+1:], func(o ImageEntry) bool { return o.ID == e.ID })
			p.Actions = append(p.Actions, untagAction(e, "no container uses it"))
		}
	}
	p.Actions = append(p.Actions, collectAction(p.Actions, "image prune"))
	return p
}

// untagAction takes entry e out of the store; its target is the reference,
// or the image ID for a dangling entry.
func untagAction(e ImageEntry, reason string) Action {
	target := e.Ref
	if target == "" {
		target = e.ID
	}
	return Action{ID: "untag:" + e.ID + ":" + e.Ref, Kind: Untag, Target: target, Reason: reason, Image: &e}
}

// collectAction deletes the layers nothing needs once every untag of
// actions has run.
func collectAction(actions []Action, reason string) Action {
	a := Action{ID: "collect-images", Kind: CollectImages, Target: "layers nothing uses", Reason: reason}
	for _, u := range actions {
		a.After = append(a.After, u.ID)
	}
	return a
}

// imageEntries are the inventory's entries of image id.
func imageEntries(inv Inventory, id string) []ImageEntry {
	var out []ImageEntry
	for _, e := range inv.Images {
		if e.ID == id {
			out = append(out, e)
		}
	}
	return out
}

// imageUsers are the containers using an image, from its entries.
func imageUsers(entries []ImageEntry) []string {
	for _, e := range entries {
		if len(e.Users) > 0 {
			return e.Users
		}
	}
	return nil
}

// entryOf is the entry of entries with reference ref.
func entryOf(entries []ImageEntry, ref string) ImageEntry {
	for _, e := range entries {
		if e.Ref == ref {
			return e
		}
	}
	return ImageEntry{ID: entries[0].ID, Ref: ref}
}

// shortImageID is an image ID's first 12 hex digits, as Docker prints it.
func shortImageID(id string) string {
	h := strings.TrimPrefix(id, "sha256:")
	return h[:min(12, len(h))]
}

// entryKey identifies an entry: its image and reference.
func entryKey(e ImageEntry) string { return e.ID + "\x00" + e.Ref }
