package main

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/store"
)

// cmdLog verifies the access log (its chain, its subject index and its
// signed checkpoints), lists the checkpoints, or prints its head.
func cmdLog(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward log verify [--anchor SEQ:HASH]… [--checkpoint FILE]… [--public-key KEY] | checkpoints [--public-key KEY] | head [--data DIR | --db DSN]"
	if len(args) == 0 || (args[0] != "verify" && args[0] != "head" && args[0] != "checkpoints") {
		return usageError{use}
	}
	var anchors anchorList
	var witnessed witnessFiles
	var pubText string
	cfg, fs, err := flags("log "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "verify" {
			fs.Var(&anchors, "anchor", "SEQ:HASH of an entry recorded elsewhere (from steward log head); may repeat")
			fs.Var(&witnessed, "checkpoint", "FILE holding a signed checkpoint kept by the witness (the e-mail's text or the webhook's body); may repeat")
		}
		if args[0] != "head" {
			fs.StringVar(&pubText, "public-key", "", "the checkpoint public key (base64), to check without this server's hashing key")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{use}
	}
	var pub ed25519.PublicKey
	if pubText != "" {
		if pub, err = accesslog.ParsePublicKey(pubText); err != nil {
			return usageError{"--public-key: " + err.Error()}
		}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	switch args[0] {
	case "head":
		h, err := st.AccessHead(ctx)
		if errors.Is(err, store.ErrNotFound) {
			fmt.Fprintln(stdout, "0", hex.EncodeToString(accesslog.GenesisHash), "(empty log)")
			return nil
		}
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, h.Seq, hex.EncodeToString(h.Hash), h.At.UTC().Format(time.RFC3339))
		return nil
	case "checkpoints":
		return listCheckpoints(ctx, cfg, st, pub, stdout)
	}

	// The key is needed only when there are checkpoints to check; without
	// it verify says so rather than pass over them.
	var keyErr error
	if pub == nil {
		pub, keyErr = serverPublicKey(ctx, cfg, st)
	}
	start := time.Now()
	bar := newProgress("verifying the access log", -1)
	res, err := accesslog.Verify(ctx, st, accesslog.Options{Anchors: anchors, Key: pub, Witnessed: witnessed, Progress: bar.Set})
	bar.Done()
	if err != nil {
		if keyErr != nil {
			return fmt.Errorf("%v (%v); or give the checkpoint public key with --public-key", err, keyErr)
		}
		return err
	}
	if br := res.Break; br != nil {
		if br.Forged {
			return fmt.Errorf("access log checkpoint forged: %s", br.Reason)
		}
		return fmt.Errorf("access log broken at entry %d: %s (%s)", br.Seq, br.Reason, verifiedBefore(br.Seq, res.Checked))
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "ok: %s verified in %s, head %d %s\n", count(res.Checked, "entry", "entries"), took.Round(time.Millisecond), res.HeadSeq, hex.EncodeToString(res.HeadHash))
	fmt.Fprintln(stdout, "ok: the subject index names exactly the subjects of every entry")
	if res.Checkpoints > 0 {
		fmt.Fprintf(stdout, "ok: %s; the latest is %s, entries after it rest on the chain alone\n",
			count(int64(res.Checkpoints), "signed checkpoint matches", "signed checkpoints match"), accesslog.CheckpointName(res.Latest))
	} else {
		fmt.Fprintln(stdout, "note: no signed checkpoint is stored, so a rewrite that recomputes every later hash would pass (see docs/access-log.md)")
	}
	if res.Witnessed > 0 {
		fmt.Fprintf(stdout, "ok: %s\n", count(int64(res.Witnessed), "checkpoint from the witness matches", "checkpoints from the witness match"))
	}
	if len(anchors) > 0 {
		fmt.Fprintf(stdout, "ok: %s\n", count(int64(len(anchors)), "anchor matches", "anchors match"))
	}
	return nil
}

// count writes "1 entry" or "3 entries".
func count(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// verifiedBefore says which entries held before a break at seq: checked
// counts the entries whose chain verified, from the first on.
func verifiedBefore(seq, checked int64) string {
	switch {
	case checked == 0:
		return "no entry before it verified"
	case checked == seq-1 && checked == 1:
		return "the entry before it verified"
	case checked == seq-1:
		return fmt.Sprintf("the %d entries before it verified", checked)
	case checked == 1:
		return "entry 1 verified"
	}
	return fmt.Sprintf("entries 1 to %d verified", checked)
}

// serverPublicKey derives the checkpoint key from this server's hashing
// key (--secret, or secret.key in the data folder).
func serverPublicKey(ctx context.Context, cfg *config.Config, st store.Store) (ed25519.PublicKey, error) {
	k, err := app.LoadKey(ctx, cfg, st, false, quietLogger())
	if err != nil {
		return nil, err
	}
	return accesslog.CheckpointKey(k).Public().(ed25519.PublicKey), nil
}

// listCheckpoints prints every stored checkpoint with whether its
// signature holds (not whether the log still matches it: that is verify).
func listCheckpoints(ctx context.Context, cfg *config.Config, st store.Store, pub ed25519.PublicKey, stdout io.Writer) error {
	if pub == nil {
		var err error
		if pub, err = serverPublicKey(ctx, cfg, st); err != nil {
			return fmt.Errorf("%v; or give the checkpoint public key with --public-key", err)
		}
	}
	cs, err := st.AccessCheckpoints(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "public key %s\n", accesslog.EncodePublicKey(pub))
	if len(cs) == 0 {
		fmt.Fprintln(stdout, "no checkpoints stored")
		return nil
	}
	bad := 0
	for _, c := range cs {
		status := "signature ok"
		if _, err := accesslog.OpenCheckpoint(c.Signed, pub); err != nil {
			status, bad = "FORGED: "+err.Error(), bad+1
		}
		fmt.Fprintf(stdout, "#%d\t%d\t%s\t%s\t%s\n", c.ID, c.Seq, hex.EncodeToString(c.Hash), c.SignedAt.Format(time.RFC3339), status)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d checkpoint(s) do not verify under this server's key", bad, len(cs))
	}
	return nil
}

// anchorList is the repeatable --anchor flag.
type anchorList []accesslog.Anchor

func (a *anchorList) String() string { return fmt.Sprint(len(*a), " anchors") }

func (a *anchorList) Set(s string) error {
	x, err := accesslog.ParseAnchor(s)
	if err != nil {
		return err
	}
	*a = append(*a, x)
	return nil
}

// witnessFiles is the repeatable --checkpoint flag: each file is read
// when the flag is parsed, so a bad one is a usage error.
type witnessFiles []accesslog.Witnessed

func (w *witnessFiles) String() string { return fmt.Sprint(len(*w), " checkpoint files") }

func (w *witnessFiles) Set(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	doc, err := accesslog.FindCheckpoint(b)
	if err != nil {
		return fmt.Errorf("checkpoint file %s: %v", path, err)
	}
	*w = append(*w, accesslog.Witnessed{Name: path, Signed: doc})
	return nil
}
