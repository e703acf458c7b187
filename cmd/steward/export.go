package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// writeOut writes an export to out through write: beside the target and
// renamed, so a failed export leaves no half a file where the previous
// one was. Errors of the file itself name --out.
func writeOut(out string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+"-*")
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	return nil
}
