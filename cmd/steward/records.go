package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/steward-privacy/steward/internal/app"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/notice"
)

// cmdRecords exports the records of processing (GDPR Art. 30), generated
// from the registry in force like the public notice.
func cmdRecords(ctx context.Context, args []string, stdout io.Writer) error {
	const use = "usage: steward records export [--format json|csv|md] [--lang en|de] [--out FILE]"
	if len(args) == 0 || args[0] != "export" {
		return usageError{use}
	}
	var format, lang, out string
	cfg, fs, err := flags("records export", args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", notice.FormatJSON, "json (docs/records.schema.json), csv or md")
		fs.StringVar(&lang, "lang", "en", "language of the sentences")
		fs.StringVar(&out, "out", "", "write to FILE instead of standard output")
	})
	if err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usageError{use}
	}
	if format != notice.FormatJSON && format != notice.FormatCSV && format != notice.FormatMarkdown {
		return usageError{fmt.Sprintf("--format %q: use json, csv or md", format)}
	}
	a, err := app.New(ctx, cfg, app.Options{Clock: clock.Real{}, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer a.Close()
	m := a.Languages.Get(lang)
	if m == nil {
		var tags []string
		for _, l := range a.Languages.All() {
			tags = append(tags, l.Lang())
		}
		return usageError{fmt.Sprintf("--lang %q: use one of %s", lang, strings.Join(tags, ", "))}
	}
	recs, err := a.Notice.Records(ctx, m, a.Clock.Now())
	if err != nil {
		return err
	}
	if out == "" {
		w := bufio.NewWriter(stdout)
		if err := recs.Write(w, format); err != nil {
			return err
		}
		return w.Flush()
	}
	return writeOut(out, func(w io.Writer) error { return recs.Write(w, format) })
}
