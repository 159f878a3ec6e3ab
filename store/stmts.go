package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmts are the statements of the queries every container's creation
// runs, each prepared once per Store (on its one connection) instead of
// once per call: SQLite parses and plans a statement at each preparation,
// much of a small query's cost. A statement used in a transaction is the
// transaction's (sql.Tx.StmtContext), reusing the preparation.
type stmts struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// txQueries are the statements run inside transactions that are
// prepared when the CLI's store opens (Open; see cached): a shim's
// (OpenCurrent) runs none of them.
var txQueries = []string{ownerQuery, putContainerQuery, setHashQuery, eventOwnerQuery, insertEventQuery, trimEventsQuery}

// prepareTx prepares txQueries; one that fails is run unprepared.
func (s *Store) prepareTx() {
	for _, q := range txQueries {
		s.prepared(context.Background(), q)
	}
}

// prepared returns query prepared, or nil when it cannot be prepared (the
// caller then runs the query as it is, which reports the error). A first
// preparation waits for the store's one connection: never call it inside
// a transaction, which holds that connection. A query run before a
// transaction (AllocateEndpoint's read of an address already recorded;
// Container and Network, which callers run before theirs) may use it: it
// waits for the connection as the query itself does. But the statements
// run inside transactions are prepared when the store opens (prepareTx),
// not here before each, which would wait for the transactions in flight
// instead of joining their commit.
func (s *Store) prepared(ctx context.Context, query string) *sql.Stmt {
	if st := s.cached(query); st != nil {
		return st
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	if had, ok := s.stmts.m[query]; ok { // prepared meanwhile by another goroutine
		st.Close()
		return had
	}
	if s.stmts.m == nil {
		s.stmts.m = map[string]*sql.Stmt{}
	}
	s.stmts.m[query] = st
	return st
}

// cached returns query as prepared before, or nil.
func (s *Store) cached(query string) *sql.Stmt {
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	return s.stmts.m[query]
}

// queryRow is s.db.QueryRowContext through a prepared statement.
func (s *Store) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, query, args...)
}

// query is s.db.QueryContext through a prepared statement.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := s.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

// txStmt is query, if prepared before (see prepared), for tx, or nil.
func (s *Store) txStmt(tx *sql.Tx, query string) *sql.Stmt {
	if st := s.cached(query); st != nil {
		return tx.Stmt(st)
	}
	return nil
}

// txQueryRow is tx.QueryRow through a prepared statement.
func (s *Store) txQueryRow(tx *sql.Tx, query string, args ...any) *sql.Row {
	if st := s.txStmt(tx, query); st != nil {
		return st.QueryRow(args...)
	}
	return tx.QueryRow(query, args...)
}

// txExec is tx.Exec through a prepared statement.
func (s *Store) txExec(tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if st := s.txStmt(tx, query); st != nil {
		return st.Exec(args...)
	}
	return tx.Exec(query, args...)
}
