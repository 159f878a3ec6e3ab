package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Container is what berth recorded about a container it made.
type Container struct {
	ID         string // 64 hex digits, new with each creation
	Name       string
	Project    string
	Service    string
	Number     int
	ConfigHash string
	ImageRef   string
	ImageID    string
	Spec       []byte // the service's canonical spec when the container was made
	CreatedAt  time.Time
	ExitCode   *int // nil until the container has exited once
	FinishedAt time.Time
	Labels     map[string]string // as Docker Compose labels it, com.docker.compose.* included
}

// Network is a network berth made, with its address allocation.
type Network struct {
	Name     string // e.g. "hello_default"
	Project  string
	Key      string // the name in the compose file, e.g. "default"
	Bridge   string
	Subnet   string
	Gateway  string
	Internal bool
	Subnet6  string // "" unless the network has IPv6
	Gateway6 string
	MTU      int    // 0: the kernel default
	IPRange  string // CIDR container addresses come from; "" = the whole subnet
	Labels   map[string]string
}

const networkCols = `name, project, key, bridge, subnet, gateway, internal, mtu, ip_range, labels, subnet6, gateway6`

func scanNetwork(row interface{ Scan(...any) error }) (Network, error) {
	var n Network
	var labels string
	if err := row.Scan(&n.Name, &n.Project, &n.Key, &n.Bridge, &n.Subnet, &n.Gateway, &n.Internal, &n.MTU, &n.IPRange, &labels, &n.Subnet6, &n.Gateway6); err != nil {
		return n, err
	}
	return n, json.Unmarshal([]byte(labels), &n.Labels)
}

// Endpoint is one container's address on one network.
type Endpoint struct {
	Container string
	Network   string
	Address   string
	Address6  string // "" unless the network has IPv6
	Key       string // the network's name in the container's compose file (aliases are keyed by it)
}

// Volume is a named volume berth made.
type Volume struct {
	Name    string
	Project string
	Key     string // the name in the compose file; "anon:<container>:<path>" for an anonymous volume
	Path    string
	Labels  map[string]string
}

const containerCols = `id, name, project, service, number, config_hash, image_ref, image_id, spec, created_at, exit_code, finished_at, labels`

func scanContainer(row interface{ Scan(...any) error }) (Container, error) {
	var c Container
	var created int64
	var exit, finished sql.NullInt64
	var labels string
	err := row.Scan(&c.ID, &c.Name, &c.Project, &c.Service, &c.Number, &c.ConfigHash, &c.ImageRef, &c.ImageID, &c.Spec, &created, &exit, &finished, &labels)
	if err != nil {
		return c, err
	}
	c.CreatedAt = time.Unix(0, created)
	if exit.Valid {
		code := int(exit.Int64)
		c.ExitCode = &code
	}
	if finished.Valid {
		c.FinishedAt = time.Unix(0, finished.Int64)
	}
	return c, json.Unmarshal([]byte(labels), &c.Labels)
}

// NewID makes a container ID: 64 random hex digits, as Docker's.
func NewID() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// ErrNameInUse is returned when a container name is recorded by another project.
var ErrNameInUse = errors.New("container name is already in use")

// The statements of PutContainer and Created (see stmts).
const (
	ownerQuery        = `SELECT project, id FROM containers WHERE name = ?`
	putContainerQuery = `INSERT OR REPLACE INTO containers (` + containerCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,NULL,NULL,?)`
	setHashQuery      = `UPDATE containers SET config_hash = ? WHERE name = ?`
)

// PutContainer inserts or replaces a container record; c.ID must be one
// NewID made. A name another project's container holds is refused
// (ErrNameInUse).
//
// Each claim allocates the container's address on a network in the same
// transaction, as AllocateEndpoint does (an address it has already is
// kept): one commit for the record and its addresses.
func (s *Store) PutContainer(ctx context.Context, c Container, claims ...EndpointClaim) error {
	if len(c.ID) != 64 {
		return fmt.Errorf("recording container %q: its ID %q is not 64 hex digits", c.Name, c.ID)
	}
	labels, err := json.Marshal(c.Labels)
	if err != nil {
		return fmt.Errorf("recording container %q: %w", c.Name, err)
	}
	if c.Labels == nil {
		labels = []byte("{}")
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var owner, id string
		err := s.txQueryRow(tx, ownerQuery, c.Name).Scan(&owner, &id)
		if err == nil && owner != c.Project {
			return fmt.Errorf("%w by container %q of project %q", ErrNameInUse, id, owner)
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		_, err = s.txExec(tx, putContainerQuery,
			c.ID, c.Name, c.Project, c.Service, c.Number, c.ConfigHash, c.ImageRef, c.ImageID, c.Spec, c.CreatedAt.UnixNano(), string(labels))
		if err != nil {
			return err
		}
		for _, cl := range claims {
			if _, err := allocateEndpoint(tx, c.Name, cl.Network, cl.Key, cl.Pick); err != nil {
				return fmt.Errorf("allocating an address on %q: %w", cl.Network, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording container %q: %w", c.Name, err)
	}
	return nil
}

// SetConfigHash records the config hash of a container once it is made.
func (s *Store) SetConfigHash(ctx context.Context, name, hash string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE containers SET config_hash = ? WHERE name = ?`, hash, name); err != nil {
		return fmt.Errorf("recording the config hash of %q: %w", name, err)
	}
	return nil
}

// bestEffort is an event's err for the transaction recording it: none for
// a container without a record (nothing to tell), and every other, which
// may have ended the transaction (SQLite rolls it back itself on a full
// disk or an I/O error) that other callers' changes share (see commits).
func bestEffort(err error) error {
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Created sets the config hash of container name, as SetConfigHash, and
// records its "create" event at time at in the same transaction (one
// commit, one sync, for the two; see bestEffort for the event's errors).
func (s *Store) Created(ctx context.Context, name, hash string, at time.Time) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.txExec(tx, setHashQuery, hash, name); err != nil {
			return err
		}
		return bestEffort(s.addEvent(tx, name, "create", nil, at))
	})
	if err != nil {
		return fmt.Errorf("recording the config hash of %q: %w", name, err)
	}
	s.touchWake()
	return nil
}

// Containers lists a project's containers ("" lists every project's), by name.
func (s *Store) Containers(ctx context.Context, project string) ([]Container, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+containerCols+` FROM containers WHERE ?1 = '' OR project = ?1 ORDER BY name`, project)
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	defer rows.Close()
	var out []Container
	for rows.Next() {
		c, err := scanContainer(rows)
		if err != nil {
			return nil, fmt.Errorf("listing containers: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Container returns one container's record, or ErrNotFound.
func (s *Store) Container(ctx context.Context, name string) (Container, error) {
	c, err := scanContainer(s.queryRow(ctx, `SELECT `+containerCols+` FROM containers WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("container %q: %w", name, ErrNotFound)
	}
	return c, err
}

// RecordExit stores a container's exit code and time. It is what the shim
// calls when the container's init exits.
func (s *Store) RecordExit(ctx context.Context, name string, code int, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE containers SET exit_code = ?, finished_at = ? WHERE name = ?`, code, at.UnixNano(), name)
	if err != nil {
		return fmt.Errorf("recording exit of %q: %w", name, err)
	}
	return nil
}

// DeleteContainer removes a container's record and its endpoints.
func (s *Store) DeleteContainer(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return deleteContainer(tx, name) })
}

// Destroyed records the events before of container name (their Time,
// Action and Attributes: those of its last stop, when the caller records
// them), then its "destroy" event at time at (see bestEffort), and
// deletes its records, as DeleteContainer, in one transaction.
func (s *Store) Destroyed(ctx context.Context, name string, at time.Time, before ...Event) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// While its record tells its labels.
		for _, ev := range before {
			if err := bestEffort(s.addEvent(tx, name, ev.Action, ev.Attributes, ev.Time)); err != nil {
				return err
			}
		}
		if err := bestEffort(s.addEvent(tx, name, "destroy", nil, at)); err != nil {
			return err
		}
		return deleteContainer(tx, name)
	})
	if err == nil {
		s.touchWake()
	}
	return err
}

func deleteContainer(tx *sql.Tx, name string) error {
	if _, err := tx.Exec(`DELETE FROM endpoints WHERE container = ?`, name); err != nil {
		return fmt.Errorf("removing endpoints of %q: %w", name, err)
	}
	if _, err := tx.Exec(`DELETE FROM ports WHERE container = ?`, name); err != nil {
		return fmt.Errorf("removing ports of %q: %w", name, err)
	}
	if _, err := tx.Exec(`DELETE FROM containers WHERE name = ?`, name); err != nil {
		return fmt.Errorf("removing container %q: %w", name, err)
	}
	return nil
}

// Networks lists a project's networks ("" lists every project's), by name.
func (s *Store) Networks(ctx context.Context, project string) ([]Network, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+networkCols+` FROM networks WHERE ?1 = '' OR project = ?1 ORDER BY name`, project)
	if err != nil {
		return nil, fmt.Errorf("listing networks: %w", err)
	}
	defer rows.Close()
	var out []Network
	for rows.Next() {
		n, err := scanNetwork(rows)
		if err != nil {
			return nil, fmt.Errorf("listing networks: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Network returns one network by name, or ErrNotFound.
func (s *Store) Network(ctx context.Context, name string) (Network, error) {
	n, err := scanNetwork(s.queryRow(ctx, `SELECT `+networkCols+` FROM networks WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return n, fmt.Errorf("network %q: %w", name, ErrNotFound)
	}
	return n, err
}

// Addressing is what a new network is given: its subnets and gateways.
type Addressing struct {
	Subnet, Gateway   string
	Subnet6, Gateway6 string // "" for IPv4 only
}

// AllocateNetwork records network n, with the addressing that pick
// chooses from every subnet already recorded (of both families). The
// choice and the insert are one transaction, so two berth processes never
// share a subnet. An existing record of the same name is returned unchanged.
func (s *Store) AllocateNetwork(ctx context.Context, n Network, pick func(used []string) (Addressing, error)) (Network, error) {
	want, got := n, n
	// The transaction may run twice (see commits): each run starts from
	// the network asked for.
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n := want
		existing, err := scanNetwork(tx.QueryRow(`SELECT `+networkCols+` FROM networks WHERE name = ?`, n.Name))
		if err == nil {
			got = existing
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		used, err := column(tx, `SELECT subnet FROM networks UNION ALL SELECT subnet6 FROM networks WHERE subnet6 != ''`)
		if err != nil {
			return err
		}
		a, err := pick(used)
		if err != nil {
			return err
		}
		n.Subnet, n.Gateway, n.Subnet6, n.Gateway6 = a.Subnet, a.Gateway, a.Subnet6, a.Gateway6
		labels, err := json.Marshal(n.Labels)
		if err != nil {
			return err
		}
		if n.Labels == nil {
			labels = []byte("{}")
		}
		_, err = tx.Exec(`INSERT INTO networks (`+networkCols+`, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			n.Name, n.Project, n.Key, n.Bridge, n.Subnet, n.Gateway, n.Internal, n.MTU, n.IPRange, string(labels), n.Subnet6, n.Gateway6, time.Now().UnixNano())
		got = n
		return err
	})
	if err != nil {
		return want, fmt.Errorf("allocating network %q: %w", want.Name, err)
	}
	return got, nil
}

// DeleteNetwork removes a network record and its endpoints.
func (s *Store) DeleteNetwork(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM networks WHERE name = ?`, name); err != nil {
		return fmt.Errorf("removing network %q: %w", name, err)
	}
	return nil
}

// AllocateEndpoint returns the address of container on network, choosing
// one with pick from the network's used addresses if it has none yet, in
// one transaction. The address is the container's until DeleteContainer.
func (s *Store) AllocateEndpoint(ctx context.Context, container, network, key string, pick func(used []string) (string, error)) (string, error) {
	// An address already recorded (PutContainer's claims) is read without
	// taking the write lock.
	var addr string
	err := s.queryRow(ctx, `SELECT address FROM endpoints WHERE container = ? AND network = ?`, container, network).Scan(&addr)
	if err == nil {
		return addr, nil
	}
	err = s.tx(ctx, func(tx *sql.Tx) (err error) {
		addr, err = allocateEndpoint(tx, container, network, key, pick)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("allocating an address for %q on %q: %w", container, network, err)
	}
	return addr, nil
}

// EndpointClaim asks PutContainer for the container's address on Network
// (its key in the service's networks: Key), which Pick chooses from the
// addresses the network's endpoints use.
type EndpointClaim struct {
	Network, Key string
	Pick         func(used []string) (string, error)
}

func allocateEndpoint(tx *sql.Tx, container, network, key string, pick func(used []string) (string, error)) (string, error) {
	var addr string
	err := tx.QueryRow(`SELECT address FROM endpoints WHERE container = ? AND network = ?`, container, network).Scan(&addr)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return addr, err
	}
	used, err := column(tx, `SELECT address FROM endpoints WHERE network = ?`, network)
	if err != nil {
		return "", err
	}
	if addr, err = pick(used); err != nil {
		return "", err
	}
	_, err = tx.Exec(`INSERT INTO endpoints (container, network, address, key) VALUES (?,?,?,?)`, container, network, addr, key)
	return addr, err
}

// AllocateEndpoint6 is AllocateEndpoint for the IPv6 address of an
// endpoint that already has its IPv4 one.
func (s *Store) AllocateEndpoint6(ctx context.Context, container, network string, pick func(used []string) (string, error)) (string, error) {
	var addr string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRow(`SELECT address6 FROM endpoints WHERE container = ? AND network = ?`, container, network).Scan(&addr); err != nil {
			return err
		}
		if addr != "" {
			return nil
		}
		used, err := column(tx, `SELECT address6 FROM endpoints WHERE network = ? AND address6 != ''`, network)
		if err != nil {
			return err
		}
		if addr, err = pick(used); err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE endpoints SET address6 = ? WHERE container = ? AND network = ?`, addr, container, network)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("allocating an IPv6 address for %q on %q: %w", container, network, err)
	}
	return addr, nil
}

// Endpoints lists every container's endpoints, by container then network.
func (s *Store) Endpoints(ctx context.Context) ([]Endpoint, error) {
	return s.endpoints(ctx, "")
}

// EndpointsOf lists container's endpoints, by network: one lookup in the
// table's key, not a read of every container's.
func (s *Store) EndpointsOf(ctx context.Context, container string) ([]Endpoint, error) {
	if container == "" {
		return nil, nil
	}
	return s.endpoints(ctx, container)
}

// endpoints lists container's endpoints, or everyone's for "".
func (s *Store) endpoints(ctx context.Context, container string) ([]Endpoint, error) {
	q := `SELECT container, network, address, address6, key FROM endpoints ORDER BY container, network`
	var args []any
	if container != "" {
		q = `SELECT container, network, address, address6, key FROM endpoints WHERE container = ? ORDER BY network`
		args = append(args, container)
	}
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing endpoints: %w", err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		var e Endpoint
		if err := rows.Scan(&e.Container, &e.Network, &e.Address, &e.Address6, &e.Key); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// PutVolume records a volume if it is not recorded yet.
func (s *Store) PutVolume(ctx context.Context, v Volume) error {
	labels, err := json.Marshal(v.Labels)
	if err != nil {
		return err
	}
	if v.Labels == nil {
		labels = []byte("{}")
	}
	_, err = s.db.ExecContext(ctx, `INSERT OR IGNORE INTO volumes (name, project, key, path, labels, created_at) VALUES (?,?,?,?,?,?)`,
		v.Name, v.Project, v.Key, v.Path, string(labels), time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("recording volume %q: %w", v.Name, err)
	}
	return nil
}

// Volumes lists a project's volumes ("" lists every project's), by name.
func (s *Store) Volumes(ctx context.Context, project string) ([]Volume, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, project, key, path, labels FROM volumes WHERE ?1 = '' OR project = ?1 ORDER BY name`, project)
	if err != nil {
		return nil, fmt.Errorf("listing volumes: %w", err)
	}
	defer rows.Close()
	var out []Volume
	for rows.Next() {
		var v Volume
		var labels string
		if err := rows.Scan(&v.Name, &v.Project, &v.Key, &v.Path, &labels); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(labels), &v.Labels); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DeleteVolume removes a volume record.
func (s *Store) DeleteVolume(ctx context.Context, name string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM volumes WHERE name = ?`, name); err != nil {
		return fmt.Errorf("removing volume %q: %w", name, err)
	}
	return nil
}

func column(tx *sql.Tx, query string, args ...any) ([]string, error) {
	rows, err := tx.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Port is one published port of a container.
type Port struct {
	Container     string
	Protocol      string // "tcp" or "udp"
	HostIP        string // "" for every address
	HostPort      int
	ContainerPort int
}

// ErrPortTaken is returned when a host port is already published by another container.
var ErrPortTaken = errors.New("port is already allocated")

// SetPorts replaces the published ports of container in one transaction;
// a host port (per protocol and address) belongs to one container only.
func (s *Store) SetPorts(ctx context.Context, container string, ports []Port) error {
	return s.MovePorts(ctx, container, container, ports)
}

// MovePorts records, in one transaction, that container from publishes
// nothing any more and container to publishes exactly ports (a
// start-first rollout's switch). from == to is SetPorts.
func (s *Store) MovePorts(ctx context.Context, from, container string, ports []Port) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.Exec(`DELETE FROM ports WHERE container = ? OR container = ?`, from, container); err != nil {
			return err
		}
		for _, p := range ports {
			var owner string
			err := tx.QueryRow(`SELECT container FROM ports WHERE protocol = ? AND host_port = ? AND (host_ip = ? OR host_ip = '' OR ? = '')`,
				p.Protocol, p.HostPort, p.HostIP, p.HostIP).Scan(&owner)
			if err == nil {
				return fmt.Errorf("publishing %s:%d/%s for %s: %w by %s", p.HostIP, p.HostPort, p.Protocol, container, ErrPortTaken, owner)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.Exec(`INSERT INTO ports (container, protocol, host_ip, host_port, container_port) VALUES (?,?,?,?,?)`,
				container, p.Protocol, p.HostIP, p.HostPort, p.ContainerPort); err != nil {
				return err
			}
		}
		return nil
	})
}

// Ports lists the published ports of container ("" lists all), by container and host port.
func (s *Store) Ports(ctx context.Context, container string) ([]Port, error) {
	rows, err := s.query(ctx, `SELECT container, protocol, host_ip, host_port, container_port FROM ports
		WHERE ?1 = '' OR container = ?1 ORDER BY container, host_port, protocol`, container)
	if err != nil {
		return nil, fmt.Errorf("listing ports: %w", err)
	}
	defer rows.Close()
	var out []Port
	for rows.Next() {
		var p Port
		if err := rows.Scan(&p.Container, &p.Protocol, &p.HostIP, &p.HostPort, &p.ContainerPort); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
