package portal

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// Records serves /admin/records: the records of processing (GDPR Art. 30)
// for the staff who answer for them, to read and to download. They hold
// no personal data, so showing them is not an access-log entry.
type Records struct {
	Notice    *notice.Service
	Languages *notice.Languages
	Clock     func() time.Time
	Log       *slog.Logger
}

type recordsView struct {
	R         *notice.Records
	Languages []string
	Lang      string
}

// Show handles GET /admin/records; with ?format=json|csv|md it downloads
// them, in ?lang= (English by default).
func (p *Records) Show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	m := p.Languages.Get("en")
	if l := q.Get("lang"); l != "" {
		if m = p.Languages.Get(l); m == nil {
			ui.Error(w, r, http.StatusBadRequest, ui.Problem{Title: "No records in that language",
				Text: "The records of processing are in " + strings.Join(p.tags(), ", ") + ".",
				Next: ui.Link{Label: "Records of processing", Path: "/admin/records"}})
			return
		}
	}
	format := q.Get("format")
	types := map[string]string{notice.FormatJSON: "application/json", notice.FormatCSV: "text/csv; charset=utf-8",
		notice.FormatMarkdown: "text/markdown; charset=utf-8"}
	if format != "" && types[format] == "" {
		ui.Error(w, r, http.StatusBadRequest, ui.Problem{Title: "Unknown format",
			Text: "The records download as json, csv or md.", Next: ui.Link{Label: "Records of processing", Path: "/admin/records"}})
		return
	}
	recs, err := p.Notice.Records(r.Context(), m, p.Clock())
	if err != nil {
		p.Log.Error("portal: records of processing", "err", err)
		ui.Error(w, r, http.StatusServiceUnavailable, ui.Problem{Title: "The records are unavailable",
			Text: "steward could not read its registry to build them. Please try again in a minute."})
		return
	}
	if format != "" {
		var b strings.Builder
		if err := recs.Write(&b, format); err != nil {
			p.Log.Error("portal: records export", "err", err)
			ui.Error(w, r, http.StatusInternalServerError, ui.Problem{Title: "Something went wrong",
				Text: "The records could not be written; it has been logged."})
			return
		}
		w.Header().Set("Content-Type", types[format])
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="records-of-processing.`+format+`"`)
		_, _ = w.Write([]byte(b.String()))
		return
	}
	if err := pages.Render(w, r, http.StatusOK, "records", ui.Page{Title: "Records of processing", Wide: true,
		Data: recordsView{R: recs, Languages: p.tags(), Lang: m.Lang()}}); err != nil {
		p.Log.Error("portal: render failed", "page", "records", "err", err)
	}
}

func (p *Records) tags() []string {
	var out []string
	for _, l := range p.Languages.All() {
		out = append(out, l.Lang())
	}
	return out
}
