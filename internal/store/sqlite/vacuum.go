package sqlite

import (
	"context"
	"fmt"
)

// A SQLite file never shrinks by itself: pages freed by Prune go to the
// file's free list and are reused, so with steady retention the file stops
// at its peak size. Under auto_vacuum=INCREMENTAL the free pages can be cut
// from the end of the file (PRAGMA incremental_vacuum) after each prune, so
// the file follows the history kept instead.
//
// The mode is part of the file: it takes effect on a file without tables,
// and an existing one needs a VACUUM, which rewrites the whole file (time
// and free disk proportional to its size) under the write lock.
const (
	// convertLimit is the largest file converted at open (a VACUUM of it
	// takes about a second here); a larger one keeps growing to its peak,
	// and the log says how to convert it offline (README).
	convertLimit = 64 << 20
	// vacuumStep bounds the pages given back per statement, so a large
	// free list does not hold the write lock for long in one go.
	vacuumStep = 4096
	// vacuumSlack is the free pages kept for the next writes, which would
	// otherwise grow the file again right away.
	vacuumSlack = 1024
)

// autoVacuumIncremental is PRAGMA auto_vacuum's value for INCREMENTAL.
const autoVacuumIncremental = 2

// ensureIncremental sets auto_vacuum=INCREMENTAL on a new file and converts
// an existing file of up to convertLimit; it reports whether the file is
// (now) incremental.
func (s *Store) ensureIncremental(ctx context.Context) (bool, error) {
	var mode, pages, pageSize int64
	if err := s.w.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return false, fmt.Errorf("sqlite: auto_vacuum: %w", err)
	}
	if mode == autoVacuumIncremental {
		return true, nil
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		return false, fmt.Errorf("sqlite: page_count: %w", err)
	}
	if err := s.w.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		return false, fmt.Errorf("sqlite: page_size: %w", err)
	}
	if pages*pageSize > convertLimit {
		return false, nil
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA auto_vacuum = INCREMENTAL`); err != nil {
		return false, fmt.Errorf("sqlite: auto_vacuum: %w", err)
	}
	if pages > 0 {
		if _, err := s.w.ExecContext(ctx, `VACUUM`); err != nil {
			return false, fmt.Errorf("sqlite: converting to incremental vacuum: %w", err)
		}
	}
	return true, nil
}

// vacuum gives the free pages beyond vacuumSlack back to the file system,
// vacuumStep at a time; on a file not in incremental mode it does nothing
// (incremental_vacuum is then a no-op).
func (s *Store) vacuum(ctx context.Context) error {
	for {
		var free int64
		if err := s.w.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return translate(err)
		}
		n := min(free-vacuumSlack, vacuumStep)
		if n <= 0 || !s.incremental {
			return nil
		}
		if _, err := s.w.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, n)); err != nil {
			return translate(err)
		}
	}
}
