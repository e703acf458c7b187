package rights

import (
	"archive/zip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
)

// runExport gathers what every connector holds into one zip archive: a
// JSON document with everything, and a CSV file per table. The archive is
// written to a temporary name and renamed, so a crash never leaves half an
// archive under the final name.
func (s *Service) runExport(ctx context.Context, r store.Request, subj Subject, done map[string]bool) (store.Request, error) {
	type system struct {
		Name   string           `json:"system"`
		Tables []map[string]any `json:"tables"`
		raw    []Table
	}
	var systems []system
	for _, c := range s.Connectors {
		started := s.Clock.Now().UTC()
		ex, err := c.Export(ctx, subj)
		tables := ex.Tables
		var count int64
		for _, t := range tables {
			count += int64(len(t.Rows))
		}
		res := Result{Count: count, Detail: fmt.Sprintf("gathered %d records", count), Attempts: ex.Attempts}
		if err := s.saveStep(ctx, r.ID, c.Name(), PhaseExport, started, res, tries(res), err); err != nil {
			return r, err
		}
		if err != nil {
			return r, &StepError{Connector: c.Name(), Phase: PhaseExport, Err: err}
		}
		sys := system{Name: c.Name(), raw: tables}
		for _, t := range tables {
			rows := make([]map[string]string, 0, len(t.Rows))
			for _, row := range t.Rows {
				m := map[string]string{}
				for i, col := range t.Columns {
					if i < len(row) {
						m[col] = row[i]
					}
				}
				rows = append(rows, m)
			}
			sys.Tables = append(sys.Tables, map[string]any{"table": t.Name, "rows": rows})
		}
		systems = append(systems, sys)
	}
	if err := os.MkdirAll(s.Config.ExportDir, 0o700); err != nil {
		return r, err
	}
	path := filepath.Join(s.Config.ExportDir, r.ID+".zip")
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return r, err
	}
	zw := zip.NewWriter(f)
	doc, _ := json.MarshalIndent(map[string]any{"request": r.ID, "generated_at": s.Clock.Now().UTC(), "systems": systems}, "", "  ")
	w, _ := zw.Create("data.json")
	w.Write(doc)
	for _, sys := range systems {
		for _, t := range sys.raw {
			w, err := zw.Create(safeName(sys.Name) + "-" + safeName(t.Name) + ".csv")
			if err != nil {
				break
			}
			cw := csv.NewWriter(w)
			cw.Write(t.Columns)
			cw.WriteAll(t.Rows)
		}
	}
	err = zw.Close()
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return r, fmt.Errorf("writing the export: %w", err)
	}
	r.ExportPath = path
	r.ExportExpiresAt = s.Clock.Now().UTC().Add(s.Config.ExportTTL)
	return s.transition(ctx, r, Complete, "system", "export ready to download until "+r.ExportExpiresAt.Format("2006-01-02 15:04 MST"), nil)
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, s)
}
