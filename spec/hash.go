package spec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
)

// Canonical is the canonical JSON encoding of s, stored with each container
// so that Diff can later say what changed: the json tags of Service, map
// keys sorted, empty fields omitted, slices and maps normalised. A field
// added to Service in a later version is omitted while zero, so the
// encoding of existing services, and their hash, stays the same.
func (s Service) Canonical() []byte {
	s.normalize()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		// Service holds only strings, numbers, bools, slices and maps.
		panic(fmt.Sprintf("encoding service %q: %v", s.Name, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// ParseCanonical decodes what Canonical encoded. Unknown fields (written by
// a newer berth) are ignored.
func ParseCanonical(b []byte) (Service, error) {
	var s Service
	if err := json.Unmarshal(b, &s); err != nil {
		return Service{}, fmt.Errorf("decoding canonical service: %w", err)
	}
	s.normalize()
	return s, nil
}

// hashed is the part of s that decides whether its containers must be
// recreated. Like Docker Compose, it leaves out what does not change a
// running container: Scale, DependsOn, PullPolicy, Profiles and Expose;
// nor does attach: false, which only changes what attached up shows; nor
// the limits, which the planner compares on their own (LimitsChanged).
func (s Service) hashed() Service {
	s.NoAttach = false
	s.Scale = 0
	s.Update = nil
	s.DependsOn = nil
	s.PullPolicy, s.PullRefresh = "", 0
	s.Profiles = nil
	s.Expose = nil
	s.Build = nil
	s.Resources = nil
	return s
}

// ConfigHash is the hex SHA-256 of the canonical encoding of every field of
// s that changes the running container (all but those hashed leaves out:
// Scale, DependsOn, the pull policy, Profiles, Expose, Build — a rebuilt
// image recreates — and Resources, applied in place). The image digest is not part of Service: the
// reconciler hashes the resolved digest alongside this hash, so that a
// re-pushed tag recreates the containers too.
func ConfigHash(s Service) string {
	sum := sha256.Sum256(s.hashed().Canonical())
	return hex.EncodeToString(sum[:])
}

// Diff lists, sorted, the paths of the hashed fields that differ between
// old and new, named by their canonical keys: "image", "command", "ports",
// "mounts", "environment.FOO", "networks.back", "networks.back.aliases".
// It is empty exactly when ConfigHash(old) == ConfigHash(new).
func Diff(old, new Service) []string {
	var a, b map[string]any
	// The canonical encoding always decodes back into a JSON object.
	_ = json.Unmarshal(old.hashed().Canonical(), &a)
	_ = json.Unmarshal(new.hashed().Canonical(), &b)
	var paths []string
	for _, k := range unionKeys(a, b) {
		va, inA := a[k]
		vb, inB := b[k]
		// A map field absent on one side is an empty map: name its keys.
		if !inA {
			va = emptyLike(vb)
		}
		if !inB {
			vb = emptyLike(va)
		}
		paths = diffValue(k, va, vb, paths)
	}
	sort.Strings(paths)
	return paths
}

func emptyLike(v any) any {
	if _, ok := v.(map[string]any); ok {
		return map[string]any{}
	}
	return nil
}

// diffValue appends the paths below path where a and b differ: objects
// present on both sides are compared key by key, anything else whole.
func diffValue(path string, a, b any, paths []string) []string {
	ma, okA := a.(map[string]any)
	mb, okB := b.(map[string]any)
	if !okA || !okB {
		if !reflect.DeepEqual(a, b) {
			paths = append(paths, path)
		}
		return paths
	}
	for _, k := range unionKeys(ma, mb) {
		va, inA := ma[k]
		vb, inB := mb[k]
		if inA != inB {
			paths = append(paths, path+"."+k)
			continue
		}
		paths = diffValue(path+"."+k, va, vb, paths)
	}
	return paths
}

func unionKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
