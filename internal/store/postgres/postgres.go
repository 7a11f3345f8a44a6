// Package postgres implements store.Store on PostgreSQL with pgx. Several
// processes may share one database: claims use FOR UPDATE SKIP LOCKED,
// leadership a lease row, and wake-ups LISTEN/NOTIFY.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/revdesk/webhooks/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a store.Store and store.Waker on a PostgreSQL database.
type Store struct {
	pool *pgxpool.Pool
	// channel is the NOTIFY channel, named after the schema so that
	// deployments sharing a database in different schemas do not wake
	// each other.
	channel string
	// facts turns facts into events (OnFacts); nil stores none.
	facts store.FactEvents
}

var (
	_ store.Store = (*Store)(nil)
	_ store.Waker = (*Store)(nil)
)

// Open connects to the database named by dsn (a postgres:// URL or
// key=value string; search_path is honoured for tables and the goose
// version table) and applies pending migrations. Processes opening the same
// schema at once take turns through an advisory lock.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse dsn: %w", err)
	}
	// Plan every statement for its parameters. Generic plans of the batch
	// statements, cached after a few runs, guess at LIMIT and time bounds
	// and settle on scanning whole tables, which grows with the backlog.
	if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; !set {
		cfg.ConnConfig.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	}
	// JIT compiling pays off for long analytical queries, never for these
	// short ones; an estimate thrown off by stale statistics (a hot table
	// not yet analyzed) would otherwise make a batch statement compile for
	// hundreds of milliseconds.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		registerUTC(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", translate(err))
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// registerUTC makes timestamptz scan as UTC rather than the process's local
// zone, so times read back look like the ones written.
func registerUTC(m *pgtype.Map) {
	m.RegisterType(&pgtype.Type{
		Name:  "timestamptz",
		OID:   pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
}

func (s *Store) migrate(ctx context.Context) error {
	var schema *string
	if err := s.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: %w", translate(err))
	}
	if schema == nil {
		return errors.New("postgres: no schema of the search_path exists; create it first")
	}
	s.channel = "revdesk_wake_" + *schema

	// One lock per schema: migrations of different schemas (parallel
	// tests) need not wait for each other.
	h := fnv.New64a()
	h.Write([]byte("revdesk-webhooks-migrate:" + *schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64())),
		lock.WithLockTimeout(1, 300),
	)
	if err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	dir, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, dir, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", translate(err))
	}
	return nil
}

func (s *Store) Ping(ctx context.Context) error {
	return translate(s.pool.Ping(ctx))
}

func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// translate maps driver errors to the store's sentinels where they leave
// the package. Errors it does not recognise pass through unchanged.
func translate(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "23505": // unique_violation
			return fmt.Errorf("%w: %s", store.ErrConflict, pgErr.Message)
		case pgErr.Code == "23503": // foreign_key_violation: a referenced row is missing
			return fmt.Errorf("%w: %s", store.ErrNotFound, pgErr.Message)
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "53"),  // insufficient resources (too many connections, disk full)
			strings.HasPrefix(pgErr.Code, "57P"), // shutdown, crash, cannot connect now
			pgErr.Code == "25006":                // read_only_sql_transaction: a standby after failover
			return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
		}
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("%w: %w", store.ErrUnavailable, err)
	}
	return err
}

// unavailable reports errors meaning the server could not be reached or the
// connection broke. A deadline is included: while the server hangs or is
// down, it is how a bounded request ends. Cancellation is not: that is the
// caller giving up.
func unavailable(err error) bool {
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) ||
		pgconn.SafeToRetry(err)
}

// timestamp is t at the precision timestamptz keeps, so values returned
// equal values read back later.
func timestamp(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// limitArg turns a list limit into a LIMIT parameter: none when not positive.
func limitArg(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

// list sends a list parameter as a text[] that is never NULL: nil would be
// NULL, which fails a NOT NULL column and makes cardinality() NULL.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// cleanText makes a string storable in a text column, which rejects NUL and
// invalid UTF-8; error messages can carry bytes a receiver chose.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// tx runs fn in a transaction, committing if it returns nil.
func (s *Store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return translate(pgx.BeginFunc(ctx, s.pool, fn))
}

// rowsOf collects rows with scan, translating errors.
func rowsOf[T any](rows pgx.Rows, err error, scan func(pgx.Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, translate(err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
	return out, translate(err)
}

// dbtx is what statements run on inside a transaction: a pgx.Tx, or a
// connection a batch began a transaction on (CompleteDeliveries).
type dbtx interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// onConn runs fn on one connection of the pool and commits the
// transaction fn began there (rolls it back when fn fails).
func (s *Store) onConn(ctx context.Context, fn func(dbtx) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return translate(err)
	}
	defer conn.Release()
	if err := fn(conn); err != nil {
		// A failed transaction is rolled back; a connection that cannot
		// even do that is closed rather than handed back in a transaction.
		if _, rbErr := conn.Exec(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			conn.Conn().Close(context.WithoutCancel(ctx))
		}
		return translate(err)
	}
	_, err = conn.Exec(ctx, "COMMIT")
	return translate(err)
}
