package accesslog

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/store"
)

// The chain is unkeyed: whoever can write the database can change one entry
// and recompute every hash after it, and the chain alone still holds. A
// checkpoint is the head's seq and hash signed with a key that is not in
// the database, stored next to the log and sent to a witness outside it.
// Verify holds the log against every checkpoint: a rewrite of any entry up
// to a checkpoint's seq changes the hash that checkpoint signed, and
// without the key no new checkpoint can be made to match. See
// docs/access-log.md.

// checkpointType names what is signed, so a checkpoint cannot be taken
// for any other document signed by steward.
const checkpointType = "steward.accesslog.checkpoint"

// Checkpoint is the signed content.
type Checkpoint struct {
	Version  int       `json:"version"`
	Type     string    `json:"type"`
	Seq      int64     `json:"seq"`
	Hash     string    `json:"hash"`
	SignedAt time.Time `json:"signed_at"`
}

// SignedCheckpoint is the document stored and sent to the witness: the
// checkpoint's exact bytes, the Ed25519 signature over them and the public
// key that checks it (the same shape as an erasure receipt).
type SignedCheckpoint struct {
	Checkpoint json.RawMessage `json:"checkpoint"`
	Signature  string          `json:"signature"`
	PublicKey  string          `json:"public_key"`
}

// CheckpointKey derives the checkpoint signing key from the hashing key,
// as rights.SigningKey derives the receipt key, so every node signs alike
// and there is no second secret to keep. The label differs from the
// receipt's: the receipt key's public half goes to data subjects and the
// checkpoint key's to auditors, and neither's signature can stand for the
// other's.
func CheckpointKey(k *minimise.Keyer) ed25519.PrivateKey {
	return k.SigningKey("access-log-checkpoint-signing-key")
}

// EncodePublicKey is the public key as checkpoints carry it (base64).
func EncodePublicKey(pub ed25519.PublicKey) string { return base64.StdEncoding.EncodeToString(pub) }

// ParsePublicKey reads a key as EncodePublicKey writes it.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("public key: want the base64 Ed25519 key that steward log checkpoints prints")
	}
	return ed25519.PublicKey(b), nil
}

// SignCheckpoint signs entry seq's hash at time at.
func SignCheckpoint(key ed25519.PrivateKey, seq int64, hash []byte, at time.Time) store.AccessCheckpoint {
	// Microseconds are what both backends keep.
	at = at.UTC().Truncate(time.Microsecond)
	body, _ := json.Marshal(Checkpoint{Version: 1, Type: checkpointType, Seq: seq, Hash: hex.EncodeToString(hash), SignedAt: at})
	doc, _ := json.Marshal(SignedCheckpoint{
		Checkpoint: body,
		Signature:  base64.StdEncoding.EncodeToString(ed25519.Sign(key, body)),
		PublicKey:  EncodePublicKey(key.Public().(ed25519.PublicKey)),
	})
	return store.AccessCheckpoint{Seq: seq, Hash: append([]byte(nil), hash...), SignedAt: at, Signed: string(doc)}
}

// OpenCheckpoint checks a signed checkpoint against pub, this server's
// key, and returns what it says. The key the document carries is not
// trusted: anyone can sign with a key of their own.
func OpenCheckpoint(doc string, pub ed25519.PublicKey) (store.AccessCheckpoint, error) {
	var sc SignedCheckpoint
	if err := json.Unmarshal([]byte(doc), &sc); err != nil || len(sc.Checkpoint) == 0 {
		return store.AccessCheckpoint{}, errors.New("it is not a signed checkpoint")
	}
	carried, err1 := base64.StdEncoding.DecodeString(sc.PublicKey)
	sig, err2 := base64.StdEncoding.DecodeString(sc.Signature)
	if err1 != nil || err2 != nil {
		return store.AccessCheckpoint{}, errors.New("its key or signature is malformed")
	}
	if !pub.Equal(ed25519.PublicKey(carried)) {
		return store.AccessCheckpoint{}, errors.New("it was signed with another key than this server's")
	}
	if !ed25519.Verify(pub, sc.Checkpoint, sig) {
		return store.AccessCheckpoint{}, errors.New("its signature does not match its content (forged or altered)")
	}
	var c Checkpoint
	if err := json.Unmarshal(sc.Checkpoint, &c); err != nil || c.Type != checkpointType || c.Version != 1 {
		return store.AccessCheckpoint{}, errors.New("the signed content is not a version 1 checkpoint")
	}
	h, err := hex.DecodeString(c.Hash)
	if err != nil || len(h) != 32 || c.Seq < 1 {
		return store.AccessCheckpoint{}, errors.New("the signed content has no valid seq and hash")
	}
	return store.AccessCheckpoint{Seq: c.Seq, Hash: h, SignedAt: c.SignedAt.UTC(), Signed: doc}, nil
}

// witnessField holds the signed checkpoint in a webhook body.
const witnessField = "steward_checkpoint"

// FindCheckpoint takes the signed checkpoint out of what a witness kept:
// the document itself, a webhook body (its steward_checkpoint field) or an
// e-mail's text (the line holding the document).
func FindCheckpoint(data []byte) (string, error) {
	try := func(b []byte) (string, bool) {
		var probe map[string]json.RawMessage
		if json.Unmarshal(b, &probe) != nil {
			return "", false
		}
		if inner, ok := probe[witnessField]; ok {
			probe = nil
			if json.Unmarshal(inner, &probe) != nil {
				return "", false
			}
			b = inner
		}
		if _, ok := probe["checkpoint"]; !ok {
			return "", false
		}
		var out bytes.Buffer
		if json.Compact(&out, b) != nil {
			return "", false
		}
		return out.String(), true
	}
	if doc, ok := try(bytes.TrimSpace(data)); ok {
		return doc, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if doc, ok := try(bytes.TrimSpace(sc.Bytes())); ok {
			return doc, nil
		}
	}
	return "", errors.New("no signed checkpoint in it (want the JSON document from the checkpoint e-mail or webhook)")
}

// Witness is where each checkpoint's copy goes, through the outbox: an
// e-mail address and/or the name of a configured webhook.
type Witness struct {
	Email   string
	Webhook string
}

// CheckpointRef is the outbox ref of a checkpoint's witness copies.
func CheckpointRef(seq int64) string { return "access-checkpoint:" + strconv.FormatInt(seq, 10) }

// Messages are the witness copies of c.
func (w Witness) Messages(c store.AccessCheckpoint) []store.OutboxMessage {
	var out []store.OutboxMessage
	summary := fmt.Sprintf("steward access-log checkpoint: entry %d, hash %x, signed %s", c.Seq, c.Hash, c.SignedAt.Format(time.RFC3339))
	if w.Email != "" {
		body := summary + "\n\n" +
			"steward signed this checkpoint of its access log. Keep this message where steward's\n" +
			"database cannot reach it: if the log is ever rewritten, this copy still holds the\n" +
			"hash that entry had. To check the log against it, save the line below to a file and run\n" +
			"  steward log verify --checkpoint FILE\n\n" +
			c.Signed + "\n"
		out = append(out, store.OutboxMessage{Kind: store.OutboxEmail, To: w.Email,
			Subject: fmt.Sprintf("steward access-log checkpoint: entry %d", c.Seq), Body: body, Ref: CheckpointRef(c.Seq), CreatedAt: c.SignedAt})
	}
	if w.Webhook != "" {
		body, _ := json.Marshal(map[string]any{"text": summary, witnessField: json.RawMessage(c.Signed)})
		out = append(out, store.OutboxMessage{Kind: store.OutboxWebhook, To: w.Webhook, Body: string(body), Ref: CheckpointRef(c.Seq), CreatedAt: c.SignedAt})
	}
	return out
}

// CheckpointStore is what a Checkpointer needs: the log, and transactions
// to store a checkpoint together with its witness copies.
type CheckpointStore interface {
	store.AccessLog
	store.Transactor
}

// Checkpointer signs the log's head on a schedule. Tick suits the server's
// workflow.Ticker (once a minute, on the injected clock); Take signs now.
type Checkpointer struct {
	Store   CheckpointStore
	Key     ed25519.PrivateKey
	Clock   clock.Clock
	Witness Witness
	// Every: sign when the latest checkpoint is at least this old and
	// entries came after it. AfterEntries: also when that many came after
	// it. Zero turns either off.
	Every        time.Duration
	AfterEntries int64
	// Wake tells the outbox worker a message is waiting; may be nil.
	Wake func()
	Log  *slog.Logger
	// Metrics counts the checks of the chain made before signing; nil
	// counts nothing.
	Metrics *Metrics

	mu sync.Mutex // one checkpoint at a time from this process
}

// Tick signs the head when a checkpoint is due.
func (c *Checkpointer) Tick(ctx context.Context) error {
	if c.Every <= 0 && c.AfterEntries <= 0 {
		return nil
	}
	head, err := c.Store.AccessHead(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	latest, err := c.Store.LatestAccessCheckpoint(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	case head.Seq <= latest.Seq:
		return nil
	case c.Every > 0 && c.Clock.Now().Sub(latest.SignedAt) >= c.Every:
	case c.AfterEntries > 0 && head.Seq-latest.Seq >= c.AfterEntries:
	default:
		return nil
	}
	_, _, err = c.Take(ctx)
	return err
}

// Take signs the head, stores the checkpoint and enqueues its witness
// copies in one transaction, unless the head already has a checkpoint (or
// the log is empty). It reports whether it added one.
func (c *Checkpointer) Take(ctx context.Context) (store.AccessCheckpoint, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	head, err := c.Store.AccessHead(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return store.AccessCheckpoint{}, false, nil
	} else if err != nil {
		return store.AccessCheckpoint{}, false, err
	}
	latest, err := c.Store.LatestAccessCheckpoint(ctx)
	switch {
	case err == nil && latest.Seq >= head.Seq:
		return latest, false, nil
	case errors.Is(err, store.ErrNotFound):
		latest = store.AccessCheckpoint{}
	case err != nil:
		return store.AccessCheckpoint{}, false, err
	}
	// A signature would vouch for every entry up to the head, so the chain
	// since the last signed one is checked first: a rewrite made behind
	// steward's back must not get a checkpoint of its own.
	if err := c.verifySince(ctx, latest, head); err != nil {
		return store.AccessCheckpoint{}, false, err
	}
	cp := SignCheckpoint(c.Key, head.Seq, head.Hash, c.Clock.Now())
	var added bool
	err = c.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if added, err = tx.AddAccessCheckpoint(ctx, cp); err != nil || !added {
			return err
		}
		if msgs := c.Witness.Messages(cp); len(msgs) > 0 {
			return tx.EnqueueOutbox(ctx, msgs)
		}
		return nil
	})
	if err != nil || !added {
		return cp, false, err
	}
	if c.Wake != nil {
		c.Wake()
	}
	if c.Log != nil {
		c.Log.Info("access log: checkpoint signed", "seq", cp.Seq, "hash", hex.EncodeToString(cp.Hash),
			"witness_email", c.Witness.Email != "", "witness_webhook", c.Witness.Webhook)
	}
	return cp, true, nil
}

// verifySince checks every entry after the latest checkpoint (from the
// first entry when there is none) up to head: each links to the one before
// it, the first to the hash the checkpoint signed, and each hash matches
// its content. It is the chain part of Verify, over what is not yet
// signed; the subject index and older entries are Verify's (`steward log
// verify`).
func (c *Checkpointer) verifySince(ctx context.Context, latest store.AccessCheckpoint, head store.AccessEntry) error {
	v := NewVerifier()
	if latest.Seq > 0 {
		v = &Verifier{prev: latest.Hash, nextSeq: latest.Seq + 1}
	}
	err := c.Store.ScanAccess(ctx, latest.Seq, head.Seq, v.Check)
	var br *Break
	if err == nil && v.nextSeq != head.Seq+1 {
		br = &Break{Seq: v.nextSeq, Reason: fmt.Sprintf("missing: the log's head is %d (deleted)", head.Seq)}
	}
	if err == nil && br == nil && !bytes.Equal(v.prev, head.Hash) {
		br = &Break{Seq: head.Seq, Reason: "the head changed while it was checked"}
	}
	if br != nil || errors.As(err, &br) {
		c.Metrics.verification("broken", 0)
		if c.Log != nil {
			c.Log.Error("access log: the chain is broken, so no checkpoint was signed; run steward log verify", "seq", br.Seq, "reason", br.Reason)
		}
		return fmt.Errorf("access log: not signed: entry %d: %s", br.Seq, br.Reason)
	}
	if err != nil {
		c.Metrics.verification("error", 0)
		return err
	}
	c.Metrics.verification("ok", head.Seq)
	return nil
}
