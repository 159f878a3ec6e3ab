package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// SetLabel records value as container name's label key ("" removes it),
// after a change made to it in place (the contents its watched binds
// hold now): berth's own labels, never the user's.
func (s *Store) SetLabel(ctx context.Context, name, key, value string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var raw string
		if err := tx.QueryRow(`SELECT labels FROM containers WHERE name = ?`, name).Scan(&raw); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		labels := map[string]string{}
		if err := json.Unmarshal([]byte(raw), &labels); err != nil {
			return err
		}
		if value == "" {
			delete(labels, key)
		} else {
			labels[key] = value
		}
		b, err := json.Marshal(labels)
		if err != nil {
			return err
		}
		_, err = tx.Exec(`UPDATE containers SET labels = ? WHERE name = ?`, string(b), name)
		return err
	})
	if err != nil {
		return fmt.Errorf("recording label %s of %q: %w", key, name, err)
	}
	return nil
}
