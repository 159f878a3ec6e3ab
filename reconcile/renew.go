package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
)

// forceReason is why a container of svc is recreated though unchanged.
func forceReason(svc string, o Options) string {
	switch {
	case len(o.Services) > 0 && !slices.Contains(o.Services, svc):
		return "--always-recreate-deps"
	case o.ForceRecreate:
		return "--force-recreate"
	}
	return "--renew-anon-volumes"
}

// renewAnonymous plans, for -V, the removal of the anonymous volumes of
// d's old container once it is removed, and takes them out of d so that
// its successor gets new ones (Docker leaves them dangling; berth records
// an anonymous volume by its container and path, so it removes them).
func (pl *planner) renewAnonymous(d decision) {
	for _, v := range d.old.Volumes {
		pl.add(Action{ID: renewID(v.Name), Kind: RemoveVolume, Target: v.Name, Service: d.svc.Name,
			Reason: fmt.Sprintf("--renew-anon-volumes: the anonymous volume at %s of %s is replaced", v.Target, d.old.Name), After: []string{"remove:" + d.old.Name}})
	}
}

// renewedName is the name of the anonymous volume that replaces old:
// another than old's, the same whenever it is planned.
func renewedName(old string) string {
	h := sha256.Sum256([]byte("renewed\x00" + old))
	return hex.EncodeToString(h[:])
}

// renewID is the ID of the removal of a renewed anonymous volume.
func renewID(name string) string { return "remove-volume:" + name }
