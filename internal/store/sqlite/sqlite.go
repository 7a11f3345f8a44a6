// Package sqlite implements store.Store on an embedded SQLite database
// (modernc.org/sqlite, pure Go). The cgo driver github.com/mattn/go-sqlite3
// was measured against it on this package's benchmarks (same pragmas) and
// used about 1.3-1.6x less CPU, short of what would pay for cgo in every
// build; the statement cache and temp_store below closed most of that gap.
//
// SQLite has a single writer, so the Store keeps two pools on the same file:
// a one-connection pool that every write goes through (transactions begin
// IMMEDIATE, so they queue in Go instead of failing with SQLITE_BUSY), and a
// read pool that WAL lets run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/revdesk/webhooks/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store.Store, and a store.SingleProcess.
type Store struct {
	w *sql.DB // the single writer
	r *sql.DB // readers

	// incremental: the file is in auto_vacuum=INCREMENTAL mode (vacuum.go).
	incremental bool

	claimStmt *sql.Stmt
	// Multi-row statements, prepared once (see multiRow).
	insertEvents, insertDeliveries, insertAttempts, complete multiRow

	// facts turns facts into events (OnFacts); nil stores none.
	facts store.FactEvents
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.SingleProcess = (*Store)(nil)
)

// Every connection: wait for locks instead of failing at once, and enforce
// foreign keys (off by default in SQLite).
const commonPragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"

// Open opens (creating if needed) the database at dsn, a file path or a
// "file:" URI, and applies pending migrations.
func Open(ctx context.Context, dsn string) (*Store, error) {
	if dsn == "" || strings.Contains(dsn, ":memory:") || strings.Contains(dsn, "mode=memory") {
		// Two pools on an in-memory database would be two databases.
		return nil, errors.New("sqlite: a database file is required")
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	// WAL lets readers run beside the writer; synchronous=FULL makes every
	// commit durable before it returns (an event acknowledged with 202 must
	// survive a power cut). temp_store=memory keeps the statement journal
	// that each multi-row statement inside a transaction needs (to undo just
	// that statement) in memory: on disk, past 64 KiB, it cost pwrite calls
	// for every page the statement touched, about a tenth of Ingest's CPU.
	w, err := sql.Open("sqlite", dsn+sep+commonPragmas+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=temp_store(memory)&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", dsn+sep+commonPragmas+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	r.SetConnMaxIdleTime(0)

	s := &Store{w: w, r: r}
	if err := s.init(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init(ctx context.Context) error {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	// Before the migrations, so that a new file is incremental from its
	// first table on.
	if s.incremental, err = s.ensureIncremental(ctx); err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, sub)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", translate(err))
	}
	// The claim is prepared once on the writer's only connection;
	// tx.StmtContext then reuses it inside each transaction. Leasing moves
	// due_at to the lease's end, so an expired lease makes the row due again
	// without anyone touching it.
	s.claimStmt, err = s.w.PrepareContext(ctx, `UPDATE deliveries
		SET lease_owner = ?1, lease_until = ?2, due_at = max(?2, next_attempt_at)
		WHERE id IN (SELECT id FROM deliveries WHERE status = 'pending' AND due_at <= ?3
			ORDER BY due_at LIMIT ?4)
		RETURNING `+deliveryColumns)
	if err != nil {
		return fmt.Errorf("sqlite: prepare: %w", err)
	}
	for _, m := range []struct {
		m     *multiRow
		query func(rows int) string
	}{
		{&s.insertEvents, insertQuery(`INSERT INTO events (id, workspace_id, event_type, workflow_id,
			campaign_id, occurred_at, data, source_event_id, test, created_at)`, eventInsertCols)},
		{&s.insertDeliveries, insertQuery(`INSERT INTO deliveries (id, workspace_id, event_id,
			subscription_id, event_type, status, next_attempt_at, due_at, lease_owner, lease_until, created_at,
			updated_at, order_key)`, deliveryInsertCols)},
		{&s.insertAttempts, insertQuery(`INSERT INTO attempts (delivery_id, number, id, at, status_code,
			latency_ns, error_class, error, response_body)`, attemptInsertCols)},
		{&s.complete, completeQuery},
	} {
		if err := m.m.prepare(ctx, s.w, m.query); err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
	}
	return nil
}

// Ping checks that both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return translate(err)
	}
	return translate(s.r.PingContext(ctx))
}

// Close closes both pools.
func (s *Store) Close() error {
	if s.claimStmt != nil {
		s.claimStmt.Close()
	}
	for _, m := range []*multiRow{&s.insertEvents, &s.insertDeliveries, &s.insertAttempts, &s.complete} {
		m.close()
	}
	return errors.Join(s.w.Close(), s.r.Close())
}

// inTx runs fn in a write transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return translate(err)
	}
	return translate(tx.Commit())
}

// translate maps driver errors onto the store's sentinels so nothing above
// this package needs to know SQLite's codes. Errors already carrying a
// sentinel pass through.
func translate(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) ||
		errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch code := se.Code(); code {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		// A row pointing at a parent that does not exist: the parent was
		// not found (an unknown workspace, say).
		return fmt.Errorf("%w: %w", store.ErrNotFound, err)
	default:
		switch code & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL,
			sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PROTOCOL, sqlite3.SQLITE_NOTADB,
			sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
	}
	return err
}

// Times are stored as integer unix nanoseconds.

func ns(t time.Time) int64 { return t.UnixNano() }

func nsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time { return time.Unix(0, n).UTC() }

func fromNullNS(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNS(n.Int64)
	return &t
}

// typeList is a list filter as a JSON array for json_each, or "" for none.
func typeList(types []string) string {
	if len(types) == 0 {
		return ""
	}
	b, _ := json.Marshal(types) // a []string always marshals
	return string(b)
}

// Scope and event type lists are stored space-separated: neither holds a
// space.
func joinList(l []string) string { return strings.Join(l, " ") }

func splitList(s string) []string { return strings.Fields(s) }

// limitOrAll turns a list limit into SQL: zero or less means no limit.
func limitOrAll(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// pageOrder is the cursor comparison and sort direction of a list.
func pageOrder(newest bool) (cmp, dir string) {
	if newest {
		return "<", "DESC"
	}
	return ">", "ASC"
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// Batches are written with multi-row statements: per row, database/sql and
// the driver cost more than SQLite's own insert, so one statement per chunk
// instead of per row is what makes batches fast. Parsing and planning such
// a statement costs about as much again as running it, so each is prepared
// once, at Open, for every power of two up to 256 rows, and a batch of n rows
// runs as the statements of n's binary digits (e.g. 100 = 64+32+4), each
// reused through tx.StmtContext on the writer's only connection.

// multiRowSizes is how many statements are prepared: 1, 2, 4, … 256 rows,
// which keeps the largest well below SQLite's limit of 32,766 bound
// parameters.
const multiRowSizes = 9

// multiRow holds one multi-row statement prepared for each row count
// 1<<i, i < multiRowSizes.
type multiRow [multiRowSizes]*sql.Stmt

func (m *multiRow) prepare(ctx context.Context, db *sql.DB, query func(rows int) string) error {
	for i := range m {
		st, err := db.PrepareContext(ctx, query(1<<i))
		if err != nil {
			return err
		}
		m[i] = st
	}
	return nil
}

func (m *multiRow) close() {
	for _, st := range m {
		if st != nil {
			st.Close()
		}
	}
}

// next returns the statement for the first chunk of a batch of n > 0 rows
// and the chunk's row count: the largest power of two not above n, capped
// at 256 (1 << (multiRowSizes-1)).
func (m *multiRow) next(ctx context.Context, tx *sql.Tx, n int) (*sql.Stmt, int) {
	i := min(bits.Len(uint(n))-1, multiRowSizes-1)
	return tx.StmtContext(ctx, m[i]), 1 << i
}

// insertQuery returns the multi-row INSERT of rows rows for head.
func insertQuery(head string, ncols int) func(rows int) string {
	row := "(" + placeholders(ncols) + ")"
	return func(rows int) string {
		return head + " VALUES " + strings.TrimSuffix(strings.Repeat(row+",", rows), ",")
	}
}

// insertRows inserts rows (flattened, ncols values each) with m's
// statements.
func insertRows(ctx context.Context, tx *sql.Tx, m *multiRow, ncols int, values []any) error {
	for len(values) > 0 {
		st, n := m.next(ctx, tx, len(values)/ncols)
		_, err := st.ExecContext(ctx, values[:n*ncols]...)
		st.Close()
		if err != nil {
			return err
		}
		values = values[n*ncols:]
	}
	return nil
}
