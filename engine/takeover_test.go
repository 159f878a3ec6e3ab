package engine

import (
	"slices"
	"testing"

	"github.com/berth-dev/berth/store"
)

// Host sides compare whatever the order and the container side: a
// successor that publishes the same host ports to another container port
// shadows the old rules; one that adds, drops or moves a host port does
// not.
func TestHostSides(t *testing.T) {
	had := []store.Port{{Container: "a", Protocol: "udp", HostPort: 53, ContainerPort: 53}, {Container: "a", Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80}}
	same := []store.Port{{Container: "b", Protocol: "tcp", HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 8000}, {Container: "b", Protocol: "udp", HostPort: 53, ContainerPort: 5353}}
	if !slices.Equal(hostSides(had), hostSides(same)) {
		t.Errorf("the same host ports differ: %v, %v", hostSides(had), hostSides(same))
	}
	for _, other := range [][]store.Port{
		same[:1],
		{same[0], {Protocol: "udp", HostPort: 54}},
		{same[0], {Protocol: "udp", HostIP: "127.0.0.1", HostPort: 53}},
		{same[0], {Protocol: "tcp", HostPort: 53}},
	} {
		if slices.Equal(hostSides(had), hostSides(other)) {
			t.Errorf("%v counts as the same host ports as %v", other, had)
		}
	}
}
