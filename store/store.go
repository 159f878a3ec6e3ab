package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// schemaVersion is bumped with every migration appended to migrations.
const schemaVersion = 5

// migrations[i] moves the schema from version i to i+1.
var migrations = []string{
	`CREATE TABLE containers (
		name        TEXT PRIMARY KEY,
		project     TEXT NOT NULL,
		service     TEXT NOT NULL,
		number      INTEGER NOT NULL,
		config_hash TEXT NOT NULL,
		image_ref   TEXT NOT NULL,
		image_id    TEXT NOT NULL,
		spec        BLOB NOT NULL,
		created_at  INTEGER NOT NULL,
		exit_code   INTEGER,
		finished_at INTEGER
	);
	CREATE INDEX containers_project ON containers(project);
	CREATE TABLE networks (
		name       TEXT PRIMARY KEY,
		project    TEXT NOT NULL,
		key        TEXT NOT NULL,
		bridge     TEXT NOT NULL UNIQUE,
		subnet     TEXT NOT NULL UNIQUE,
		gateway    TEXT NOT NULL,
		internal   INTEGER NOT NULL,
		created_at INTEGER NOT NULL
	);
	CREATE TABLE endpoints (
		container TEXT NOT NULL,
		network   TEXT NOT NULL REFERENCES networks(name) ON DELETE CASCADE,
		address   TEXT NOT NULL,
		PRIMARY KEY (container, network),
		UNIQUE (network, address)
	);
	CREATE TABLE volumes (
		name       TEXT PRIMARY KEY,
		project    TEXT NOT NULL,
		key        TEXT NOT NULL,
		path       TEXT NOT NULL,
		created_at INTEGER NOT NULL
	);`,
	`ALTER TABLE networks ADD COLUMN mtu INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE networks ADD COLUMN ip_range TEXT NOT NULL DEFAULT '';
	ALTER TABLE networks ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE volumes ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
	ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';
	ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';
	ALTER TABLE endpoints ADD COLUMN address6 TEXT NOT NULL DEFAULT '';
	ALTER TABLE endpoints ADD COLUMN key TEXT NOT NULL DEFAULT '';
	CREATE TABLE ports (
		container      TEXT NOT NULL,
		protocol       TEXT NOT NULL,
		host_ip        TEXT NOT NULL,
		host_port      INTEGER NOT NULL,
		container_port INTEGER NOT NULL,
		PRIMARY KEY (protocol, host_ip, host_port)
	);
	CREATE INDEX ports_container ON ports(container);`,
	// A container's ID: 64 random hex digits made at its creation.
	`ALTER TABLE containers ADD COLUMN id TEXT NOT NULL DEFAULT '';
	UPDATE containers SET id = lower(hex(randomblob(32)));
	CREATE UNIQUE INDEX containers_id ON containers(id);`,
	// A container's labels, as Docker Compose sets them (the service's own
	// and com.docker.compose.*, config files among them). Containers made
	// before get the labels their columns tell; their config files are unknown.
	`ALTER TABLE containers ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';
	UPDATE containers SET labels = json_object('com.docker.compose.project', project, 'com.docker.compose.service', service,
		'com.docker.compose.container-number', CAST(number AS TEXT), 'com.docker.compose.oneoff', 'False');`,
	// Container events (create, start, die, ...), as Docker's daemon keeps
	// them for `events --since`: the newest MaxEvents, by sequence.
	`CREATE TABLE events (
		seq        INTEGER PRIMARY KEY AUTOINCREMENT,
		time       INTEGER NOT NULL,
		action     TEXT NOT NULL,
		id         TEXT NOT NULL,
		name       TEXT NOT NULL,
		project    TEXT NOT NULL,
		service    TEXT NOT NULL,
		attributes TEXT NOT NULL
	);
	CREATE INDEX events_project ON events(project, seq);`,
}

// Store is berth's metadata database. It is safe for concurrent use by
// several goroutines and several processes (SQLite WAL mode; every
// mutation is one immediate transaction).
type Store struct {
	db      *sql.DB
	wake    string // the file touched after each recorded event (see WatchEvents)
	commits commits
	stmts   stmts
}

// Open opens (creating if needed) the database at <root>/berth.db and
// brings its schema up to date.
func Open(root string) (*Store, error) { return openDB(root, true, "FULL") }

// ErrSchema is returned by OpenCurrent for a database of another schema.
var ErrSchema = errors.New("database schema of another berth version")

// OpenCurrent opens the database only if its schema is exactly this
// berth's, never migrating it: for berth-runtime's shims, which must not
// move a database under a berth of another version.
//
// Its commits do not wait for the disk (synchronous=NORMAL): a shim
// records only what it observes (exit codes, events), never what berth
// made, and exit.json is the authority on a container's state; a crash of
// the host may lose the last of those, never an earlier commit or a later
// one of berth's (the WAL is written in order, and berth's own commits
// sync it). So a shim holds the write lock, which the CLI creating or
// removing containers waits for, for no disk flush.
func OpenCurrent(root string) (*Store, error) { return openDB(root, false, "NORMAL") }

// openDB opens the database under root, migrating its schema if migrate,
// else refusing another schema; sync is SQLite's synchronous setting.
func openDB(root string, migrate bool, sync string) (*Store, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating state root: %w", err)
	}
	path := filepath.Join(root, "berth.db")
	if err := private(path); err != nil {
		return nil, err
	}
	// synchronous=FULL (Open): a committed transaction is on the disk (the
	// WAL is synced at each commit), so a crash of the host loses no record
	// of what berth made. NORMAL may lose the last ones (see OpenCurrent).
	dsn := "file:" + path + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=1&_synchronous=" + sync
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// One connection: goroutines of one process queue in database/sql
	// instead of colliding on SQLite's write lock, whose busy handler sleeps
	// for milliseconds at a time. Other processes still wait on busy_timeout.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, wake: filepath.Join(root, eventsWakeFile)}
	s.commits.db = db
	if !migrate {
		var v int
		if err := db.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil || v != schemaVersion {
			db.Close()
			return nil, fmt.Errorf("%s: %w (%d, want %d): %v", path, ErrSchema, v, schemaVersion, err)
		}
		return s, nil // a shim's: it runs none of txQueries, so prepares none
	}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	// SQLite gives -wal and -shm the database's mode; older roots' too.
	for _, f := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(f, 0o600); err != nil && !errors.Is(err, os.ErrNotExist) {
			db.Close()
			return nil, fmt.Errorf("securing %s: %w", f, err)
		}
	}
	s.prepareTx()
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) migrate() error {
	var current int
	if err := s.db.QueryRow(`PRAGMA user_version`).Scan(&current); err != nil {
		return err
	}
	if current == schemaVersion {
		return nil // the common case: no write, no lock
	}
	return s.tx(context.Background(), func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
			return err
		}
		if v > schemaVersion {
			return fmt.Errorf("database schema version %d is newer than this berth (%d)", v, schemaVersion)
		}
		for ; v < schemaVersion; v++ {
			if _, err := tx.Exec(migrations[v]); err != nil {
				return fmt.Errorf("migration %d: %w", v+1, err)
			}
		}
		_, err := tx.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, schemaVersion))
		return err
	})
}

// tx runs fn in an immediate transaction, committing if it returns nil,
// and returns once that commit is on the disk (or failed). Calls from
// several goroutines at once share a commit (see commits).
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.commits.run(ctx, fn, s.txAlone)
}

// txAlone runs fn in a transaction of its own, committing if it returns nil.
func (s *Store) txAlone(fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// private creates the database file at path, if missing, mode 0600 (the
// mode SQLite then gives its -wal and -shm), and makes an existing one 0600:
// it holds every project's environment.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("securing %s: %w", path, err)
	}
	return nil
}
