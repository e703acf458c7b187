package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/store"
)

// cmdLog verifies the access log's chain or prints its head.
func cmdLog(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward log verify [--anchor SEQ:HASH]… | head [--data DIR | --db DSN]"
	if len(args) == 0 || (args[0] != "verify" && args[0] != "head") {
		return usageError{use}
	}
	var anchors anchorList
	cfg, fs, err := flags("log "+args[0], args[1:], func(fs *flag.FlagSet) {
		if args[0] == "verify" {
			fs.Var(&anchors, "anchor", "SEQ:HASH of an entry recorded elsewhere (from steward log head); may repeat")
		}
	})
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{use}
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if args[0] == "head" {
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
	}
	start := time.Now()
	res, err := accesslog.Verify(ctx, st, anchors...)
	if err != nil {
		return err
	}
	if res.Break != nil {
		return fmt.Errorf("access log broken at entry %d: %s (%d entries before it verified)", res.Break.Seq, res.Break.Reason, res.Checked)
	}
	took := time.Since(start)
	fmt.Fprintf(stdout, "ok: %d entries verified in %s, head %d %s\n", res.Checked, took.Round(time.Millisecond), res.HeadSeq, hex.EncodeToString(res.HeadHash))
	if len(anchors) > 0 {
		fmt.Fprintf(stdout, "ok: %d anchor(s) match\n", len(anchors))
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
