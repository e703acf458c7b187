package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"
	_ "modernc.org/sqlite"
)

// The durable floors: a handler that reads the body, makes it durable
// through one backend with a group commit and answers 202 — no decoding,
// checks, minimisation or steward schema. What a floor reaches is the most
// any collector that acknowledges only durable events can reach on this
// machine with that backend, so steward is compared with the floors as well
// as with the bare ceiling.

// floorKinds lists the floors: "fsync" appends to a file and fsyncs it;
// "sqlite" (WAL, synchronous=FULL) and "postgres" insert into a table with
// nothing but a sequence key; the "+keys" variants add the two random-keyed
// index entries every steward event needs, a unique idempotency key and a
// subject key for erasure.
var (
	localFloors    = []string{"fsync", "sqlite", "sqlite+keys"}
	postgresFloors = []string{"postgres", "postgres+keys"}
	floorKinds     = append(slices.Clip(localFloors), postgresFloors...)
)

// floor serves one durable floor on addr; where is a directory for fsync
// and SQLite, a DSN for PostgreSQL.
func floor(kind, where, addr string) {
	commit, err := floorCommit(kind, where)
	check(err)
	mux := http.NewServeMux()
	mux.Handle("/", newCommitter(commit))
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {})
	check(http.ListenAndServe(addr, mux))
}

// floorCommit prepares a floor's storage and returns its commit: every body
// of the batch durable, or an error.
func floorCommit(kind, where string) (func(bodies [][]byte) error, error) {
	switch kind {
	case "fsync":
		f, err := os.OpenFile(filepath.Join(where, "floor.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, err
		}
		var buf []byte
		return func(bodies [][]byte) error {
			buf = buf[:0]
			for _, b := range bodies {
				buf = append(append(buf, b...), '\n')
			}
			if _, err := f.Write(buf); err != nil {
				return err
			}
			return f.Sync()
		}, nil
	case "sqlite", "sqlite+keys":
		keys := kind == "sqlite+keys"
		db, err := sql.Open("sqlite", "file:"+filepath.Join(where, kind+".db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)")
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(1)
		ddl, insert := "CREATE TABLE bodies (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)", "INSERT INTO bodies(body) VALUES (?)"
		if keys {
			ddl = "CREATE TABLE bodies (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL, body TEXT NOT NULL);" +
				"CREATE INDEX bodies_subject ON bodies(subject)"
			insert = "INSERT INTO bodies(body, id, subject) VALUES (?, ?, ?)"
		}
		if _, err := db.Exec(ddl); err != nil {
			return nil, err
		}
		return func(bodies [][]byte) error {
			tx, err := db.Begin()
			if err != nil {
				return err
			}
			defer tx.Rollback()
			st, err := tx.Prepare(insert)
			if err != nil {
				return err
			}
			for _, b := range bodies {
				args := []any{string(b)}
				if keys {
					args = append(args, randomKey(), randomKey())
				}
				if _, err := st.Exec(args...); err != nil {
					return err
				}
			}
			return tx.Commit()
		}, nil
	case "postgres", "postgres+keys":
		keys := kind == "postgres+keys"
		ctx := context.Background()
		pool, err := pgxpool.New(ctx, where)
		if err != nil {
			return nil, err
		}
		ddl, insert := "CREATE TABLE floor_bodies (seq bigserial PRIMARY KEY, body text NOT NULL)", "INSERT INTO floor_bodies(body) SELECT unnest($1::text[])"
		if keys {
			ddl = "CREATE TABLE floor_keyed (seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, subject text NOT NULL, body text NOT NULL);" +
				"CREATE INDEX floor_keyed_subject ON floor_keyed(subject)"
			insert = "INSERT INTO floor_keyed(body, id, subject) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])"
		}
		if _, err := pool.Exec(ctx, ddl); err != nil {
			pool.Close()
			return nil, err
		}
		return func(bodies [][]byte) error {
			b := make([]string, len(bodies))
			for i := range bodies {
				b[i] = string(bodies[i])
			}
			args := []any{b}
			if keys {
				id, sub := make([]string, len(bodies)), make([]string, len(bodies))
				for i := range bodies {
					id[i], sub[i] = randomKey(), randomKey()
				}
				args = append(args, id, sub)
			}
			// One statement outside a transaction block commits on its own.
			_, err := pool.Exec(ctx, insert, args...)
			return err
		}, nil
	}
	return nil, fmt.Errorf("unknown floor %q (want one of %v)", kind, floorKinds)
}

// randomKey stands for an idempotency or subject key: random, so each one
// lands on its own index page, as client UUIDs and keyed hashes do.
func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// committer is a group commit: every body queued while the previous commit
// ran goes into the next one, and each request is answered only after the
// commit holding its body.
type committer struct {
	in     chan *waiter
	commit func(bodies [][]byte) error
}

type waiter struct {
	body []byte
	err  error
	done chan struct{}
}

func newCommitter(commit func([][]byte) error) *committer {
	c := &committer{in: make(chan *waiter, 4096), commit: commit}
	go c.run()
	return c
}

func (c *committer) run() {
	var batch []*waiter
	var bodies [][]byte
	for first := range c.in {
		batch, bodies = append(batch[:0], first), append(bodies[:0], first.body)
	drain:
		for len(batch) < 1000 {
			select {
			case w := <-c.in:
				batch, bodies = append(batch, w), append(bodies, w.body)
			default:
				break drain
			}
		}
		err := c.commit(bodies)
		for _, w := range batch {
			w.err = err
			close(w.done)
		}
	}
}

func (c *committer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	wt := &waiter{body: body, done: make(chan struct{})}
	c.in <- wt
	<-wt.done
	if wt.err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}
