package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/problem"
	"github.com/steward-privacy/steward/internal/web/ui"
)

// NewLogger returns steward's JSON logger at level ("info" when unknown).
func NewLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}

// chain wraps the mux with the request log, panic recovery and the headers
// every response carries.
func chain(h http.Handler, log *slog.Logger, ips clientip.Resolver) http.Handler {
	return requestLog(recoverer(secureHeaders(h), log), log, ips)
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		// Pages may load scripts and styles from steward itself only.
		hd.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.ServeHTTP(w, r)
	})
}

// recoverer turns a panic into a 500 (the error page for a browser, a
// problem for the API): the client never sees a stack trace, and the log
// gets the place it happened without any request data.
func recoverer(h http.Handler, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v) // net/http's own signal to drop the connection
			}
			buf := make([]byte, 4096)
			buf = buf[:runtime.Stack(buf, false)]
			log.Error("panic while serving", "route", r.Pattern, "panic", fmt.Sprint(v), "stack", string(buf))
			// A browser opening a page reads the error page; API clients
			// keep their JSON problem.
			if strings.Contains(r.Header.Get("Accept"), "text/html") {
				ui.Error(w, r, http.StatusInternalServerError, ui.Problem{Title: "Something went wrong",
					Text: "steward hit an internal error; it has been logged. Please try again in a minute."})
				return
			}
			problem.New(w, http.StatusInternalServerError, "internal", "steward hit an internal error; it has been logged")
		}()
		h.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush on the real writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush keeps streaming responses streaming through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// requestLog writes one line per request under the same rules as stored
// data: the client appears only as its truncated network, the query string
// (which may carry status tokens) and the user agent are never logged.
func requestLog(h http.Handler, log *slog.Logger, ips clientip.Resolver) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		client := ""
		if a := ips.Addr(r); a.IsValid() {
			client = minimise.TruncateIP(a, 24, 48).String()
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "http",
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.String("path", logPath(r.URL.Path)),
			slog.Int("status", sw.status),
			slog.Int64("bytes", sw.bytes),
			slog.Float64("ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("client_net", client),
		)
	})
}

// logPath caps the logged path so a hostile client cannot flood the log.
func logPath(p string) string {
	if len(p) > 128 {
		p = p[:128] + "…"
	}
	return strings.ToValidUTF8(p, "?")
}
