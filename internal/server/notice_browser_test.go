package server

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestNoticeInChromium reads the public notice in real Chromium at a
// phone's width and a desktop's: nothing scrolls sideways, every declared
// field of every dataset is in its table once with how it is stored, the
// German notice lays out as well, and the page loads no script.
// Screenshots go to STEWARD_SCREENSHOTS when it is set, else to a
// temporary directory named in the log.
func TestNoticeInChromium(t *testing.T) {
	ctx := chromium(t)
	n := startNode(t, testConfig(t, ""))
	b := tab{t, ctx}
	dir := os.Getenv("STEWARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	en := n.srv.Languages.Get("en")
	reg := n.srv.Registry.Current()
	cur, err := n.srv.Notice.Current(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 375, 812, true}, {"desktop", 1280, 900, false}} {
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		b.do(chromedp.EmulateViewport(size.width, size.height, opts...))
		for _, page := range []string{"/privacy", "/privacy?lang=de", "/privacy/history"} {
			if st := b.open(n.http.URL + page); st != 200 {
				t.Fatalf("%s at %s: %d", page, size.name, st)
			}
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
			if err != nil {
				t.Fatal(err)
			}
			if wide {
				widths, _ := chromedp.Run(ctx, chromedp.Evaluate[string](
					`[...document.querySelectorAll("body *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right)).join(", ")`))
				t.Errorf("%s scrolls sideways at %s width (%d px): %s", page, size.name, size.width, widths)
			}
			scripts, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
			if scripts != 0 {
				t.Errorf("%s has %d scripts", page, scripts)
			}
			name := strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(strings.TrimPrefix(page, "/")) + "-" + size.name
			shot(t, ctx, dir, name, chromedp.FullScreenshot(100))
			if page != "/privacy/history" {
				// The top of the page and the first table, as a person
				// sees them on the screen.
				shot(t, ctx, dir, name+"-top", chromedp.CaptureScreenshot())
				shot(t, ctx, dir, name+"-facts", chromedp.Screenshot(chromedp.CSS("#interaction_data dl")))
				shot(t, ctx, dir, name+"-table", chromedp.Screenshot(chromedp.CSS("#interaction_data table")))
			}
		}

		// What a person reads in the stored-data tables is the registry.
		b.open(n.http.URL + "/privacy")
		for _, d := range reg.Datasets {
			rows, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](
				`[...document.querySelectorAll("#`+d.Name+` tr[data-field]")].map(r => [r.dataset.field, r.querySelector(".stored").innerText.trim(), r.querySelector(".kept").innerText.trim()])`))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(d.Fields) {
				t.Errorf("%s at %s: %d rows, %d declared fields", d.Name, size.name, len(rows), len(d.Fields))
			}
			var nd = cur.Notice.Datasets[0]
			for _, x := range cur.Notice.Datasets {
				if x.Name == d.Name {
					nd = x
				}
			}
			for i, row := range rows {
				f := d.Fields[i]
				if row[0] != f.Name || row[1] != en.StoredAs(nd.Field(f.Name).Stored) || row[2] != en.Duration(d.Retention) {
					t.Errorf("%s at %s, row %d: %v", d.Name, size.name, i, row)
				}
			}
		}
	}
}

// shot saves one screenshot as dir/name.png.
func shot(t *testing.T, ctx context.Context, dir, name string, a chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
