package pgaudit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// PositionName names the tailer's row in the monitor positions and its
// lease: only one node reads the log when several share a database.
const PositionName = "pgaudit"

const (
	defaultBatch     = 1000
	defaultMaxRecord = 8 << 20
	chunk            = 1 << 20
	// recentKeys bounds the statements remembered to drop repeats.
	recentKeys = 64
	// headBytes is how much of a file's start its fingerprint covers.
	headBytes = 1024
	// skipLimit bounds a record passed over: PostgreSQL's own bound on a
	// statement (1 GiB) and some.
	skipLimit = 1<<30 + 1<<20
)

// Tailer reads the csvlog files PostgreSQL's logging collector writes
// into Dir and appends an access-log entry for every audited read or write
// of a mapped table. Where it stands (which file, by inode, and the byte
// offset after the last whole record) is stored in the same transaction as
// the entries it appends, so after a crash it resumes exactly there:
// nothing is lost and nothing is logged twice.
//
// Files are taken in name order, which is time order for the collector's
// default log_filename (postgresql-%Y-%m-%d_%H%M%S). A record is read only
// once its newline is written; a file's unfinished last record is waited
// for until a newer file exists, and then counted as malformed.
type Tailer struct {
	Store store.Store
	// Dir is PostgreSQL's log_directory; Pattern picks the csvlog files in
	// it (default "*.csv").
	Dir     string
	Pattern string
	Mapping Mapping
	// Holder names this node for the lease.
	Holder string
	// Lease is how long a node keeps the tailer after its last round
	// (default 2 minutes, more than the ticker's minute).
	Lease time.Duration
	// Batch bounds the records of one transaction (default 1000).
	Batch int
	// MaxRecord bounds one record in bytes (default 8 MiB); a longer one
	// is counted as malformed and skipped.
	MaxRecord int
	// Budget, when positive, bounds one CatchUp, so a long backlog (the
	// first start over a big log) does not hold up the ticker's other
	// work; the next tick goes on from where it stopped.
	Budget  time.Duration
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *Metrics
}

// Stats is what the tailer has done, kept with its position.
type Stats struct {
	File   string `json:"file"`
	Dev    uint64 `json:"dev,omitempty"`
	Ino    uint64 `json:"ino,omitempty"`
	Offset int64  `json:"offset"`
	// Head fingerprints the file's first HeadLen bytes (SHA-256), which
	// never change in a log that is only appended to: an inode the
	// file system reused for a newer file, or a file truncated and
	// written anew, no longer matches.
	Head    string `json:"head,omitempty"`
	HeadLen int64  `json:"head_len,omitempty"`
	// Records counts csvlog records read; Entries those that became
	// access-log entries; Unmapped reads and writes of tables the mapping
	// does not name; Other records that are no pgaudit read or write (or
	// repeat one already logged); Malformed records that could not be
	// read, skipped.
	Records   int64 `json:"records"`
	Entries   int64 `json:"entries"`
	Unmapped  int64 `json:"unmapped"`
	Other     int64 `json:"other"`
	Malformed int64 `json:"malformed"`
	// Skipping: the offset is inside a record over MaxRecord whose start
	// was already read; reading goes on after its end, found by its
	// quoting as for any record (SkipQuoted: inside a quoted field).
	Skipping   bool  `json:"skipping,omitempty"`
	SkipQuoted bool  `json:"skip_quoted,omitempty"`
	Skipped    int64 `json:"skipped,omitempty"`
	// Recent are the last statements logged (session, statement,
	// substatement, class, object), since pgaudit writes a relation once
	// per mention (a self-join reads the table twice in one statement).
	Recent []string `json:"recent,omitempty"`
}

type logFile struct {
	name     string
	dev, ino uint64
	size     int64
}

func (f logFile) is(s *Stats) bool {
	if f.ino != 0 || s.Ino != 0 {
		return f.dev == s.Dev && f.ino == s.Ino
	}
	return f.name == s.File
}

// Stats returns the stored position and counts.
func (t *Tailer) Stats(ctx context.Context) (Stats, error) {
	pos, err := t.Store.GetMonitorPosition(ctx, PositionName)
	if err != nil {
		return Stats{}, err
	}
	return decodeStats(pos)
}

func decodeStats(pos store.MonitorPosition) (Stats, error) {
	var st Stats
	if len(pos.State) > 0 {
		if err := json.Unmarshal(pos.State, &st); err != nil {
			return Stats{}, fmt.Errorf("pgaudit position: %w", err)
		}
	}
	return st, nil
}

// CatchUp runs rounds until the log is read to its end or Budget is
// spent (the ticker's job).
func (t *Tailer) CatchUp(ctx context.Context) error {
	start := time.Now()
	for {
		more, err := t.Round(ctx)
		if err != nil || !more {
			return err
		}
		if t.Budget > 0 && time.Since(start) > t.Budget {
			return nil
		}
	}
}

// Round reads up to Batch records after the stored position, appends
// their entries and moves the position in one transaction. It reports
// whether it moved (false when caught up or another node holds the lease).
func (t *Tailer) Round(ctx context.Context) (bool, error) {
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	lease := t.Lease
	if lease <= 0 {
		lease = 2 * time.Minute
	}
	held, err := t.Store.TakeLease(ctx, PositionName, t.Holder, now, lease)
	if err != nil || !held {
		return false, err
	}
	pos, err := t.Store.GetMonitorPosition(ctx, PositionName)
	if err != nil {
		return false, err
	}
	st, err := decodeStats(pos)
	if err != nil {
		return false, err
	}
	before := st.Malformed
	r := &round{t: t, st: &st, batch: t.Batch, max: t.MaxRecord}
	if r.batch <= 0 {
		r.batch = defaultBatch
	}
	if r.max <= 0 {
		r.max = defaultMaxRecord
	}
	if err := r.run(); err != nil {
		return false, err
	}
	if !r.moved {
		return false, nil
	}
	state, _ := json.Marshal(st)
	// Seq counts the tailer's stored moves, so AdvanceMonitor's
	// compare-and-set refuses a round another node already stored.
	next := store.MonitorPosition{Name: PositionName, Seq: pos.Seq + 1, Checked: st.Records, State: state, UpdatedAt: now}
	err = t.Store.InTx(ctx, func(tx store.Tx) error {
		if len(r.entries) > 0 {
			if err := tx.AppendAccessTx(ctx, r.entries, func(e *store.AccessEntry, prev []byte) { accesslog.Seal(e, prev) }); err != nil {
				return err
			}
		}
		return tx.AdvanceMonitor(ctx, next, pos.Seq, t.Holder)
	})
	if err != nil {
		return false, err
	}
	t.Metrics.set(st)
	if st.Malformed > before && t.Log != nil {
		// Never the record itself: it can hold a statement with
		// personal data in it.
		t.Log.Warn("pgaudit: malformed log records skipped", "count", st.Malformed-before, "total", st.Malformed, "file", st.File, "offset", st.Offset)
	}
	return true, nil
}

// round is one round's reading.
type round struct {
	t          *Tailer
	st         *Stats
	batch, max int
	entries    []*store.AccessEntry
	records    int
	moved      bool
}

func (r *round) run() error {
	if fi, err := os.Stat(r.t.Dir); err != nil || !fi.IsDir() {
		// Said every round: an audit source that cannot be read is
		// accesses nobody checks.
		return fmt.Errorf("pgaudit: the log directory %s cannot be read (pgaudit.log_dir)", r.t.Dir)
	}
	pattern := r.t.Pattern
	if pattern == "" {
		pattern = "*.csv"
	}
	names, err := filepath.Glob(filepath.Join(r.t.Dir, pattern))
	if err != nil {
		return fmt.Errorf("pgaudit: log files %s: %w", pattern, err)
	}
	sort.Strings(names)
	var files []logFile
	for _, n := range names {
		fi, err := os.Stat(n)
		if err != nil || !fi.Mode().IsRegular() {
			continue // rotated away between the listing and now
		}
		dev, ino := fileID(fi)
		files = append(files, logFile{name: filepath.Base(n), dev: dev, ino: ino, size: fi.Size()})
	}
	i := r.locate(files)
	for i >= 0 && i < len(files) && r.records < r.batch {
		done, err := r.readFile(files[i], i == len(files)-1)
		if err != nil {
			return err
		}
		if !done {
			return nil // waiting for the rest of the last file, or batch full
		}
		i++
		if i < len(files) {
			r.start(files[i])
		}
	}
	return nil
}

// locate finds the stored file among files (by identity, so a renamed
// file is still found), or the first one after it by name when it is gone,
// or the oldest when nothing was read yet: the log present when the tailer
// starts is read too. -1: nothing to read.
func (r *round) locate(files []logFile) int {
	st := r.st
	if st.File == "" {
		if len(files) == 0 {
			return -1
		}
		r.start(files[0])
		return 0
	}
	for i, f := range files {
		if f.is(st) && r.sameHead(f) {
			if f.size < st.Offset {
				// Truncated in place (log_truncate_on_rotation) before
				// anything was fingerprinted: what is there now is new.
				r.start(f)
			}
			if f.name != st.File {
				st.File = f.name
				r.moved = true
			}
			return i
		}
	}
	// Gone: go on with the next file by name; one of the same name is a
	// new file under the old name.
	i := sort.Search(len(files), func(i int) bool { return files[i].name >= st.File })
	if i == len(files) {
		return -1
	}
	r.start(files[i])
	return i
}

// start makes f the file being read, from its beginning.
func (r *round) start(f logFile) {
	st := r.st
	st.File, st.Dev, st.Ino, st.Offset, st.Head, st.HeadLen = f.name, f.dev, f.ino, 0, "", 0
	st.Skipping, st.SkipQuoted = false, false
	r.moved = true
}

// sameHead reports whether f still starts as the file the position is in
// did (true while nothing of it was fingerprinted yet).
func (r *round) sameHead(f logFile) bool {
	if r.st.HeadLen == 0 {
		return true
	}
	if f.size < r.st.HeadLen {
		return false
	}
	h, err := headOf(filepath.Join(r.t.Dir, f.name), r.st.HeadLen)
	return err == nil && h == r.st.Head
}

// fingerprint extends the position's fingerprint of f up to headBytes.
func (r *round) fingerprint(f logFile) error {
	n := min(f.size, headBytes)
	if r.st.HeadLen >= n {
		return nil
	}
	h, err := headOf(filepath.Join(r.t.Dir, f.name), n)
	if err != nil {
		return nil // gone meanwhile: the next round sees it
	}
	r.st.Head, r.st.HeadLen, r.moved = h, n, true
	return nil
}

func headOf(path string, n int64) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	b := make([]byte, n)
	if _, err := io.ReadFull(fh, b); err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// readFile reads whole records of f from the stored offset until the
// batch is full (false) or the file is read to its end (true). A last
// file's unfinished record waits (false); an older file's is malformed.
func (r *round) readFile(f logFile, last bool) (bool, error) {
	st := r.st
	if err := r.fingerprint(f); err != nil {
		return false, err
	}
	if st.Offset >= f.size {
		return !last, nil
	}
	fh, err := os.Open(filepath.Join(r.t.Dir, f.name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return !last, nil
		}
		return false, fmt.Errorf("pgaudit: %w", err)
	}
	defer fh.Close()
	size := min(chunk, r.max)
	for r.records < r.batch && st.Offset < f.size {
		n := int(min(int64(size), f.size-st.Offset))
		buf := make([]byte, n)
		if _, err := fh.ReadAt(buf, st.Offset); err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("pgaudit: read %s: %w", f.name, err)
		}
		if st.Skipping {
			end, quoted := scanRecord(buf, st.SkipQuoted)
			r.moved = true
			if end >= 0 {
				st.Offset += int64(end)
				st.Skipping, st.SkipQuoted, st.Skipped = false, false, 0
				continue
			}
			st.Offset += int64(n)
			st.SkipQuoted, st.Skipped = quoted, st.Skipped+int64(n)
			if st.Skipped > skipLimit {
				// Longer than PostgreSQL writes a record: the quoting
				// went wrong (a record cut short by a crash), so go on
				// line by line until one starts like a record.
				st.Skipping, st.SkipQuoted, st.Skipped = false, false, 0
				st.Malformed++
			}
			continue
		}
		used := 0
		for r.records < r.batch {
			if rest := buf[used:]; !looksLikeStart(rest) {
				// Not a record's start, so not PostgreSQL's: the line
				// is passed over whatever quotes it holds, so that it
				// cannot swallow the records after it.
				j := bytes.IndexByte(rest, '\n')
				if j < 0 {
					break
				}
				st.Records++
				st.Malformed++
				r.records++
				used += j + 1
				continue
			}
			end := nextRecord(buf[used:])
			if end < 0 {
				break
			}
			r.record(buf[used:used+end], false)
			used += end
		}
		if used > 0 {
			st.Offset += int64(used)
			r.moved = true
			size = min(chunk, r.max)
			continue
		}
		// Not even one whole record in buf.
		rest := f.size - st.Offset
		switch {
		case n < int(rest) && size < r.max:
			size = min(size*2, r.max) // a long record: read more of it
		case n >= r.max:
			// Over the bound: its start says who read which table (the
			// statement, which makes it long, comes last), so it is
			// still logged; the rest is passed over to its end.
			if f, ok := headFields(buf); ok {
				r.fields(f, true)
			} else {
				st.Records++
				st.Malformed++
				r.records++
			}
			_, quoted := scanRecord(buf, false)
			st.Offset += int64(n)
			st.Skipping, st.SkipQuoted, st.Skipped, r.moved = true, quoted, int64(n), true
		case !last:
			// PostgreSQL moved on to a newer file and left this one
			// unfinished (a crash mid-write): the rest is one bad record.
			st.Malformed++
			st.Records++
			st.Offset = f.size
			r.moved = true
		default:
			return false, nil // the record is still being written
		}
	}
	return st.Offset >= f.size && !last, nil
}

// record handles one whole csvlog record.
func (r *round) record(b []byte, long bool) {
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	fields, err := cr.Read()
	if err != nil {
		r.st.Records++
		r.st.Malformed++
		r.records++
		return
	}
	r.fields(fields, long)
}

// fields handles one record's fields; long: rebuilt from the start of a
// record over the bound.
func (r *round) fields(fields []string, long bool) {
	st := r.st
	st.Records++
	r.records++
	a, err := ParseRecord(fields)
	switch {
	case errors.Is(err, ErrNotAudit):
		st.Other++
		return
	case err != nil:
		st.Malformed++
		return
	}
	e, out := r.t.Mapping.Entry(a)
	switch out {
	case Unmapped:
		st.Unmapped++
		return
	case Other:
		st.Other++
		return
	}
	key := fmt.Sprintf("%s/%d/%d/%s/%s", a.Session, a.StatementID, a.SubID, a.Class, a.ObjectName)
	if slices.Contains(st.Recent, key) {
		st.Other++
		return
	}
	st.Recent = append(st.Recent, key)
	if len(st.Recent) > recentKeys {
		st.Recent = st.Recent[len(st.Recent)-recentKeys:]
	}
	if long {
		e.Reason += "; the record is over the size bound, its statement was not read"
	}
	st.Entries++
	r.entries = append(r.entries, e)
}
