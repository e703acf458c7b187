package postgres

import (
	"context"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/steward-privacy/steward/internal/store"
)

// InTx runs fn in one pgx transaction (READ COMMITTED). The version check
// needs nothing stronger: UPDATE … WHERE version = $n locks the row, and a
// second writer waiting on that lock then finds the version moved.
func (s *Store) InTx(ctx context.Context, fn func(store.Tx) error) error {
	pgTx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap(err)
	}
	// After Commit this does nothing; when fn fails or panics it undoes
	// fn's writes and returns the connection to the pool. Its own context,
	// so a cancelled ctx still rolls back.
	defer pgTx.Rollback(context.Background())
	if err := fn(tx{pgTx}); err != nil {
		return err
	}
	return wrap(pgTx.Commit(ctx))
}

type tx struct{ tx pgx.Tx }

func (t tx) CreateRequest(ctx context.Context, r store.Request) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO requests("+requestCols+") VALUES ("+placeholders(29, 1)+")", requestArgs(&r)...)
	return wrap(err)
}

// updateRequest sets every column but id, then checks the id and version.
var updateRequest = func() string {
	cols := strings.Split(requestCols, ", ")[1:]
	sets := make([]string, len(cols))
	for i, c := range cols {
		sets[i] = c + " = $" + strconv.Itoa(i+1)
	}
	return "UPDATE requests SET " + strings.Join(sets, ", ") + " WHERE id = $29 AND version = $30"
}()

func (t tx) UpdateRequest(ctx context.Context, r store.Request) (int64, error) {
	read := r.Version
	r.Version++
	tag, err := t.tx.Exec(ctx, updateRequest, append(requestArgs(&r)[1:], r.ID, read)...)
	if err != nil {
		return 0, wrap(err)
	}
	if tag.RowsAffected() != 1 {
		return 0, store.ErrConflict
	}
	return r.Version, nil
}

func (t tx) AppendRequestEvent(ctx context.Context, ev store.RequestEvent) error {
	_, err := t.tx.Exec(ctx, "INSERT INTO request_events(request_id, at, actor, from_status, to_status, note) VALUES ($1,$2,$3,$4,$5,$6)",
		ev.RequestID, ev.At.UTC(), ev.Actor, ev.From, ev.To, ev.Note)
	return wrap(err)
}

func (t tx) EnqueueOutbox(ctx context.Context, msgs []store.OutboxMessage) error {
	return enqueueOutbox(ctx, t.tx, msgs)
}

func (t tx) AddAccessCheckpoint(ctx context.Context, c store.AccessCheckpoint) (bool, error) {
	tag, err := t.tx.Exec(ctx, "INSERT INTO access_checkpoints(seq, hash, signed_at, signed) VALUES ($1,$2,$3,$4) ON CONFLICT (seq) DO NOTHING",
		c.Seq, c.Hash, c.SignedAt.UTC(), c.Signed)
	if err != nil {
		return false, wrap(err)
	}
	return tag.RowsAffected() == 1, nil
}
