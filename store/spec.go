package store

import (
	"context"
	"fmt"
)

// SetSpec records the service spec (canonical JSON) container name now
// matches, after a change made to it in place (its limits).
func (s *Store) SetSpec(ctx context.Context, name string, spec []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE containers SET spec = ? WHERE name = ?`, spec, name)
	if err != nil {
		return fmt.Errorf("recording the spec of %q: %w", name, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("recording the spec of %q: %w", name, ErrNotFound)
	}
	return nil
}
