package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/steward-privacy/steward/internal/rights"
)

// cmdReceipt checks a downloaded erasure receipt offline: it needs the
// receipt file and the published public key, nothing of the server.
func cmdReceipt(args []string, stdout io.Writer) error {
	const use = "usage: steward receipt verify RECEIPT --public-key KEY"
	if len(args) == 0 || args[0] != "verify" {
		return usageError{use}
	}
	fs := flag.NewFlagSet("steward receipt verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	keyPath := fs.String("public-key", "", "the receipt key (PEM, JWK or base64) published at "+rights.ReceiptKeyPath)
	// The receipt may come before or after the flag.
	var files []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); err != nil {
			return usageError{use}
		}
		if fs.NArg() == 0 {
			break
		}
		files, rest = append(files, fs.Arg(0)), fs.Args()[1:]
	}
	if len(files) != 1 || *keyPath == "" {
		return usageError{use}
	}
	keyFile, err := os.ReadFile(*keyPath)
	if err != nil {
		return fmt.Errorf("--public-key: %w", err)
	}
	pub, err := rights.ParsePublicKey(keyFile)
	if err != nil {
		return fmt.Errorf("--public-key %s: %w", *keyPath, err)
	}
	file, err := os.ReadFile(files[0])
	if err != nil {
		return err
	}
	rc, _, err := rights.VerifyReceiptFile(file, pub)
	if err != nil {
		return fmt.Errorf("%s: %w", files[0], err)
	}
	fmt.Fprintf(stdout, "signature valid: the receipt of request %s was signed with this key and not changed since\n", rc.RequestID)
	fmt.Fprintf(stdout, "%s request received %s, completed %s\n", rc.Type, rc.Received.Format(time.RFC3339), rc.CompletedAt.Format(time.RFC3339))
	for _, st := range rc.Steps {
		label := st.Label
		if label == "" {
			label = st.System
		}
		fmt.Fprintf(stdout, "  %s  %-10s %-30s %d record(s): %s\n", st.FinishedAt.Format(time.RFC3339), st.Phase, label, st.Count, st.Done)
	}
	return nil
}
