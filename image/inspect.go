package image

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/distribution/reference"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// InspectInfo is an image as `docker image inspect` prints it; the JSON
// keys are Docker's.
type InspectInfo struct {
	Id           string //nolint:revive // Docker's JSON key
	RepoTags     []string
	RepoDigests  []string
	Created      string // RFC 3339 with nanoseconds
	Comment      string
	Author       string
	Architecture string
	Variant      string `json:",omitempty"`
	Os           string
	Size         int64
	Config       InspectConfig
	RootFS       InspectRootFS
}

// InspectConfig is the Config object of `docker image inspect`.
type InspectConfig struct {
	User         string
	ExposedPorts map[string]struct{} `json:",omitempty"`
	Env          []string
	Cmd          []string
	Entrypoint   []string
	Volumes      map[string]struct{}
	WorkingDir   string
	Labels       map[string]string
	StopSignal   string `json:",omitempty"`
}

// InspectRootFS is the RootFS object of `docker image inspect`.
type InspectRootFS struct {
	Type   string
	Layers []string // diff IDs, bottom first
}

// Inspect describes the local image ref (any reference or ID Get
// accepts), listing every reference and registry digest of it.
func (s *Store) Inspect(ref string) (InspectInfo, error) {
	im, err := s.readIndex()
	if err != nil {
		return InspectInfo{}, err
	}
	d, _, err := find(im.Manifests, ref)
	if err != nil {
		return InspectInfo{}, err
	}
	m, cfg, err := s.manifestAndConfig(d.Digest)
	if err != nil {
		return InspectInfo{}, fmt.Errorf("inspecting %s: %w", ref, err)
	}
	id := d.Annotations[annotationID]
	info := InspectInfo{
		Id:           id,
		RepoTags:     []string{},
		RepoDigests:  []string{},
		Comment:      historyComment(cfg),
		Author:       cfg.Author,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		Size:         m.Config.Size,
		Config: InspectConfig{ // cfg is shared (see parsed): slices and maps of its own
			User:         cfg.Config.User,
			ExposedPorts: maps.Clone(cfg.Config.ExposedPorts),
			Env:          slices.Clone(cfg.Config.Env),
			Cmd:          slices.Clone(cfg.Config.Cmd),
			Entrypoint:   slices.Clone(cfg.Config.Entrypoint),
			Volumes:      maps.Clone(cfg.Config.Volumes),
			WorkingDir:   cfg.Config.WorkingDir,
			Labels:       maps.Clone(cfg.Config.Labels),
			StopSignal:   cfg.Config.StopSignal,
		},
		RootFS: InspectRootFS{Type: "layers", Layers: []string{}},
	}
	if !cfg.Created.IsZero() {
		info.Created = cfg.Created.UTC().Format(time.RFC3339Nano)
	}
	for _, l := range m.Layers {
		info.Size += l.Size
	}
	for _, h := range cfg.RootFS.DiffIDs {
		info.RootFS.Layers = append(info.RootFS.Layers, h.String())
	}
	for _, e := range im.Manifests {
		if e.Annotations[annotationID] != id {
			continue
		}
		if name := e.Annotations[annotationRefName]; name != "" {
			info.RepoTags = appendUnique(info.RepoTags, familiar(name))
		}
		if rd := e.Annotations[annotationRepoDigest]; rd != "" {
			info.RepoDigests = appendUnique(info.RepoDigests, familiar(rd))
		}
	}
	slices.Sort(info.RepoTags)
	slices.Sort(info.RepoDigests)
	return info, nil
}

// familiar shortens a normalised reference as Docker prints it
// ("docker.io/library/busybox:latest" becomes "busybox:latest").
func familiar(norm string) string {
	n, err := reference.ParseNormalizedNamed(norm)
	if err != nil {
		return norm
	}
	return reference.FamiliarString(n)
}

// historyComment is the comment of the last history entry, as Docker shows.
func historyComment(cfg *v1.ConfigFile) string {
	if len(cfg.History) == 0 {
		return ""
	}
	return cfg.History[len(cfg.History)-1].Comment
}
