package ui

import (
	"net/http"

	"github.com/steward-privacy/steward/internal/auth"
)

// Problem is what the error page says.
type Problem struct {
	// Title names what happened ("This link is not valid"); Text says it
	// in a sentence and what to do next. Neither may hold internal detail:
	// the page is for the person, the log is for the operator.
	Title, Text string
	// Next is an optional way on, such as "Make a request". Without one,
	// a staff page offers "Sign in" when nobody is signed in.
	Next Link
	// Site is as in Page.
	Site string
}

var errorPage = MustParse(files, "templates/error.html")

// Error writes the error page with status. Pages use it for 400, 403, 404,
// 409, 410, 429, 500 and 503 alike, so a person always reads a sentence
// inside the usual layout, never a stack trace or JSON.
func Error(w http.ResponseWriter, r *http.Request, status int, p Problem) {
	if p.Next.Path == "" && p.Site == "" {
		if _, ok := auth.SessionFromContext(r.Context()); !ok {
			p.Next = Link{Label: "Sign in", Path: auth.LoginPath}
		}
	}
	t := errorPage.pages["error"]
	b, err := execute(t, r, Page{Title: p.Title, Error: p.Text, Site: p.Site, Data: p.Next})
	if err != nil {
		// The error page itself failed: a plain sentence is still better
		// than nothing.
		http.Error(w, p.Title+". "+p.Text, status)
		return
	}
	write(w, status, b)
}

// Refuse is Error with a title and a sentence; auth.Sessions calls it for
// the refusals of RequirePage.
func Refuse(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	Error(w, r, status, Problem{Title: title, Text: text})
}

func internalError(w http.ResponseWriter, r *http.Request, site string) {
	Error(w, r, http.StatusInternalServerError, Problem{Site: site, Title: "Something went wrong",
		Text: "The page could not be shown because of an error on our side; it has been logged. Please try again in a minute."})
}
