package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/review"
)

// probe is one request against a route and the roles that must get through.
type probe struct {
	method, path, body string
	hdr                map[string]string
	// allowed roles get past authorization (neither 401 nor 403; the
	// handler may still find the input wrong); every other role gets 403.
	allowed []auth.Role
}

// authzMatrix is the authorization matrix: every route steward serves, by
// pattern, with the requests that exercise it. TestAuthorizationMatrix
// fails for a served route that has no row here, so an endpoint cannot be
// added without deciding who may call it.
var authzMatrix = map[string]struct {
	public bool
	// page rows are probed with signed-in browser sessions (people hold
	// every role but app) instead of API tokens.
	page   bool
	probes []probe
}{
	"GET /healthz":                  {public: true},
	"GET /readyz":                   {public: true},
	"GET /metrics":                  {public: true},
	"GET /sdk/steward.js":           {public: true},
	"GET /v1/csrf":                  {public: true},
	"/v1/opt-out":                   {public: true},
	"POST /v1/collect/{dataset}":    {public: true},
	"OPTIONS /v1/collect/{dataset}": {public: true},
	"POST /submit/{app_id}/{ping}/{schema_version}/{doc_id}":    {public: true},
	"OPTIONS /submit/{app_id}/{ping}/{schema_version}/{doc_id}": {public: true},
	// Every dataset's path alias, dispatched from the registry in force.
	AliasRoute:         {public: true},
	"GET /v1/datasets": {probes: []probe{{method: "GET", path: "/v1/datasets", allowed: auth.PersonRoles()}}},
	"GET /v1/datasets/{name}/events": {probes: []probe{
		{method: "GET", path: "/v1/datasets/interaction_data/events?" + dayRange + "&purpose=product_improvement", allowed: []auth.Role{auth.Analyst, auth.DataSteward}},
		{method: "GET", path: "/v1/datasets/interaction_data/events?" + dayRange + "&purpose=data_subject_request", allowed: []auth.Role{auth.Support}},
		{method: "GET", path: "/v1/datasets/request_log/events?" + dayRange + "&purpose=service_debugging", allowed: []auth.Role{auth.Analyst, auth.DataSteward}},
	}},
	"POST /v1/datasets/{name}/lookup": {probes: []probe{
		{method: "POST", path: "/v1/datasets/interaction_data/lookup", hdr: map[string]string{"X-Steward-Purpose": "product_improvement"},
			body: `{"subject":"7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90","from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z"}`, allowed: []auth.Role{auth.DataSteward}},
		{method: "POST", path: "/v1/datasets/interaction_data/lookup", hdr: map[string]string{"X-Steward-Purpose": "data_subject_request"},
			body: `{"subject":"7f1d5a3e-0c1b-4f7e-9a51-3b2d6f1e8c90","from":"2026-11-22T00:00:00Z","to":"2026-11-23T00:00:00Z"}`, allowed: []auth.Role{auth.Support}},
	}},
	// Public pages and callbacks: a status token, a signature or the
	// person's own e-mail guards each; none asks for a sign-in.
	"GET /static/":                        {public: true},
	"GET /favicon.ico":                    {public: true},
	"GET /privacy/requests/new":           {public: true},
	"POST /privacy/requests":              {public: true},
	"GET /privacy/requests/{id}":          {public: true},
	"GET /privacy/requests/{id}/confirm":  {public: true},
	"POST /privacy/requests/{id}/confirm": {public: true},
	"POST /privacy/requests/{id}/answer":  {public: true},
	"GET /privacy/requests/{id}/export":   {public: true},
	"GET /privacy/requests/{id}/receipt":  {public: true},
	// The key that checks receipts is for anyone to fetch.
	"GET /.well-known/steward-receipt-key.pem": {public: true},
	"GET /.well-known/steward-receipt-key.jwk": {public: true},
	"POST /callbacks/facebook/data-deletion":   {public: true},
	"POST /callbacks/connectors/{name}":        {public: true},
	"GET /admin/requests":                      {page: true, probes: []probe{{method: "GET", path: "/admin/requests", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	"GET /admin/requests/trends":               {page: true, probes: []probe{{method: "GET", path: "/admin/requests/trends", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	"GET /admin/collection":                    {page: true, probes: []probe{{method: "GET", path: "/admin/collection", allowed: []auth.Role{auth.Admin, auth.DataSteward}}}},
	"GET /admin/requests/{id}":                 {page: true, probes: []probe{{method: "GET", path: "/admin/requests/r-aaaaaaaaaaaaaaaa", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	"POST /admin/requests/{id}/{action}":       {page: true, probes: []probe{{method: "POST", path: "/admin/requests/r-aaaaaaaaaaaaaaaa/take", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	// The data collection review: every role that takes part reads it
	// (auditors too); those who may propose or review may post, and the
	// review service then decides each action.
	"GET /admin/reviews":                 {page: true, probes: []probe{{method: "GET", path: "/admin/reviews", allowed: review.ReaderRoles}}},
	"GET /admin/reviews/new":             {page: true, probes: []probe{{method: "GET", path: "/admin/reviews/new", allowed: review.ProposerRoles}}},
	"POST /admin/reviews":                {page: true, probes: []probe{{method: "POST", path: "/admin/reviews", allowed: review.ProposerRoles}}},
	"GET /admin/reviews/{id}":            {page: true, probes: []probe{{method: "GET", path: "/admin/reviews/999999", allowed: review.ReaderRoles}}},
	"GET /admin/reviews/{id}/request.md": {page: true, probes: []probe{{method: "GET", path: "/admin/reviews/999999/request.md", allowed: review.ReaderRoles}}},
	"POST /admin/reviews/{id}/{action}":  {page: true, probes: []probe{{method: "POST", path: "/admin/reviews/999999/signoff", allowed: review.ProposerRoles}}},
	"GET /admin/mail":                    {page: true, probes: []probe{{method: "GET", path: "/admin/mail", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	"GET /admin/mail/{id}":               {page: true, probes: []probe{{method: "GET", path: "/admin/mail/1", allowed: []auth.Role{auth.Support, auth.Admin}}}},
	// Signing in is open to all; the account page and sign-out to
	// anyone signed in.
	"GET /login":   {public: true},
	"POST /login":  {public: true},
	"GET /{$}":     {public: true},
	"GET /account": {page: true, probes: []probe{{method: "GET", path: "/account", allowed: auth.PersonRoles()}}},
	"POST /logout": {page: true, probes: []probe{{method: "POST", path: "/logout", allowed: auth.PersonRoles()}}},
	// Reviews: reading is for proposers, reviewers and auditors; acting
	// lets every person role through, and the review decides per action
	// (an unknown proposal answers 404 to all of them).
	"GET /v1/reviews":                 {probes: []probe{{method: "GET", path: "/v1/reviews", allowed: review.ReaderRoles}}},
	"POST /v1/reviews":                {probes: []probe{{method: "POST", path: "/v1/reviews", body: `{}`, allowed: review.ProposerRoles}}},
	"GET /v1/reviews/{id}":            {probes: []probe{{method: "GET", path: "/v1/reviews/999", allowed: review.ReaderRoles}}},
	"GET /v1/reviews/{id}/request.md": {probes: []probe{{method: "GET", path: "/v1/reviews/999/request.md", allowed: review.ReaderRoles}}},
	"POST /v1/reviews/{id}/{action}":  {probes: []probe{{method: "POST", path: "/v1/reviews/999/submit", body: `{}`, allowed: auth.PersonRoles()}}},
	"POST /v1/requests": {probes: []probe{{method: "POST", path: "/v1/requests",
		body: `{"type":"access","email":"app-user@example.org","app_user_id":"42"}`, allowed: []auth.Role{auth.App}}}},
	"GET /v1/access-log":           {probes: []probe{{method: "GET", path: "/v1/access-log", allowed: []auth.Role{auth.Auditor, auth.IncidentManager}}}},
	"POST /v1/access-log/external": {probes: []probe{{method: "POST", path: "/v1/access-log/external", body: `{}`, allowed: []auth.Role{auth.System}}}},
	// The incident pages: managers and auditors read, managers act.
	"GET /admin/incidents":                            {page: true, probes: []probe{{method: "GET", path: "/admin/incidents", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/new":                        {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/new", allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /admin/incidents":                           {page: true, probes: []probe{{method: "POST", path: "/admin/incidents", allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /admin/incidents/{id}":                       {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/999", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"POST /admin/incidents/{id}/{action}":             {page: true, probes: []probe{{method: "POST", path: "/admin/incidents/999/assess", allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /v1/incidents":                               {probes: []probe{{method: "GET", path: "/v1/incidents", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"POST /v1/incidents":                              {probes: []probe{{method: "POST", path: "/v1/incidents", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /v1/incidents/{id}":                          {probes: []probe{{method: "GET", path: "/v1/incidents/999", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"POST /v1/incidents/{id}/{action}":                {probes: []probe{{method: "POST", path: "/v1/incidents/999/assess", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /v1/retention/sweeps":                        {probes: []probe{{method: "GET", path: "/v1/retention/sweeps", allowed: []auth.Role{auth.Admin, auth.DataSteward, auth.Auditor}}}},
	"GET /v1/incidents/register":                      {probes: []probe{{method: "GET", path: "/v1/incidents/register?format=csv", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /v1/incidents/{id}/severity":                 {probes: []probe{{method: "GET", path: "/v1/incidents/999/severity", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"POST /v1/incidents/{id}/severity":                {probes: []probe{{method: "POST", path: "/v1/incidents/999/severity", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /v1/incidents/{id}/report/authority.json":    {probes: []probe{{method: "GET", path: "/v1/incidents/999/report/authority.json", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /v1/incidents/{id}/report/authority.md":      {probes: []probe{{method: "GET", path: "/v1/incidents/999/report/authority.md", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /v1/incidents/{id}/report/authority.html":    {probes: []probe{{method: "GET", path: "/v1/incidents/999/report/authority.html", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /v1/incidents/{id}/communication.md":         {probes: []probe{{method: "GET", path: "/v1/incidents/999/communication.md", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"POST /v1/incidents/{id}/describe":                {probes: []probe{{method: "POST", path: "/v1/incidents/999/describe", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /v1/incidents/{id}/communicate":             {probes: []probe{{method: "POST", path: "/v1/incidents/999/communicate", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /v1/incidents/{id}/window":                  {probes: []probe{{method: "POST", path: "/v1/incidents/999/window", body: `{}`, allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /admin/incidents/{id}/severity":             {page: true, probes: []probe{{method: "POST", path: "/admin/incidents/999/severity", allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /admin/incidents/{id}/window":               {page: true, probes: []probe{{method: "POST", path: "/admin/incidents/999/window", allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /admin/incidents/{id}/describe":             {page: true, probes: []probe{{method: "POST", path: "/admin/incidents/999/describe", allowed: []auth.Role{auth.IncidentManager}}}},
	"POST /admin/incidents/{id}/communicate":          {page: true, probes: []probe{{method: "POST", path: "/admin/incidents/999/communicate", allowed: []auth.Role{auth.IncidentManager}}}},
	"GET /admin/incidents/{id}/report/authority.html": {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/999/report/authority.html", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/{id}/report/authority.md":   {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/999/report/authority.md", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/{id}/report/authority.json": {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/999/report/authority.json", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/{id}/communication.md":      {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/999/communication.md", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/register.csv":               {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/register.csv?state=open", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	"GET /admin/incidents/register.json":              {page: true, probes: []probe{{method: "GET", path: "/admin/incidents/register.json", allowed: []auth.Role{auth.IncidentManager, auth.Auditor}}}},
	// The privacy notice is for everyone; the records of processing hold
	// no personal data and are for the roles that answer for it.
	"GET /privacy":                    {public: true},
	"GET /privacy/history":            {public: true},
	"GET /privacy/history/{n}":        {public: true},
	"GET /privacy.json":               {public: true},
	"GET /privacy/disclaimers/{file}": {public: true},
	"GET /.well-known/gpc.json":       {public: true},
	"GET /v1/records": {probes: []probe{{method: "GET", path: "/v1/records",
		allowed: []auth.Role{auth.Auditor, auth.DataSteward, auth.LegalReviewer, auth.Admin}}}},
	"GET /admin/records": {page: true, probes: []probe{{method: "GET", path: "/admin/records",
		allowed: []auth.Role{auth.Auditor, auth.DataSteward, auth.LegalReviewer, auth.Admin}}}},
}

func TestAuthorizationMatrix(t *testing.T) {
	n := startNode(t, testConfig(t, ""))
	tokens := map[auth.Role]string{}
	for _, r := range auth.Roles {
		tokens[r] = token(t, n, r)
	}
	sessions := map[auth.Role]*page{}
	for _, r := range auth.PersonRoles() {
		sessions[r] = signIn(t, n, r)
	}
	for _, route := range n.srv.Routes() {
		row, ok := authzMatrix[route.Pattern]
		if !ok {
			t.Errorf("route %q has no row in the authorization matrix (authz_test.go)", route.Pattern)
			continue
		}
		if row.public != (route.Roles == nil) {
			t.Errorf("route %q: matrix says public=%v, server requires roles %v", route.Pattern, row.public, route.Roles)
		}
		if !row.public && len(row.probes) == 0 {
			t.Errorf("route %q: a protected route needs at least one probe", route.Pattern)
		}
		if row.page != route.Page {
			t.Errorf("route %q: matrix says page=%v, server says %v", route.Pattern, row.page, route.Page)
		}
		if row.page {
			for _, p := range row.probes {
				probePage(t, n, sessions, p)
			}
			continue
		}
		for _, p := range row.probes {
			// Without credentials: 401, never the data.
			if status, _, _ := do(t, p.method, n.http.URL+p.path, "", p.body, p.hdr); status != http.StatusUnauthorized {
				t.Errorf("%s %s without a token: %d, want 401", p.method, p.path, status)
			}
			for _, role := range auth.Roles {
				status, body, _ := do(t, p.method, n.http.URL+p.path, tokens[role], p.body, p.hdr)
				want := slices.Contains(p.allowed, role)
				switch {
				case want && (status == http.StatusUnauthorized || status == http.StatusForbidden):
					t.Errorf("%s %s as %s: %d %v, want it let through", p.method, p.path, role, status, body)
				case !want && status != http.StatusForbidden:
					t.Errorf("%s %s as %s: %d, want 403", p.method, p.path, role, status)
				case !want && !strings.Contains(fmt.Sprint(body["detail"]), string(role)):
					t.Errorf("%s %s as %s: the refusal does not say why: %v", p.method, p.path, role, body)
				}
			}
		}
	}
	for pattern := range authzMatrix {
		if !slices.ContainsFunc(n.srv.Routes(), func(r Route) bool { return r.Pattern == pattern }) {
			t.Errorf("matrix row %q matches no served route", pattern)
		}
	}
}

// probePage tries a page without a session and then signed in as every
// role; forms carry the session's own CSRF token, so only the role decides.
func probePage(t *testing.T, n *node, sessions map[auth.Role]*page, p probe) {
	anon := newPage(t, n.http.URL)
	var status int
	if p.method == "GET" {
		status, _, _ = anon.get(p.path)
		if status != http.StatusSeeOther {
			t.Errorf("%s %s without a session: %d, want a redirect to sign in", p.method, p.path, status)
		}
	} else if status, _, _ = anon.postForm(p.path, url.Values{}); status != http.StatusUnauthorized {
		t.Errorf("%s %s without a session: %d, want 401", p.method, p.path, status)
	}
	for _, role := range auth.PersonRoles() {
		tab := sessions[role]
		var body string
		if p.method == "GET" {
			status, body, _ = tab.get(p.path)
		} else {
			status, body, _ = tab.postForm(p.path, url.Values{auth.CSRFField: {tab.csrf()}})
		}
		want := slices.Contains(p.allowed, role)
		switch {
		case want && (status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusSeeOther && p.method == "GET"):
			t.Errorf("%s %s as %s: %d, want it let through", p.method, p.path, role, status)
		case !want && status != http.StatusForbidden:
			t.Errorf("%s %s as %s: %d, want 403", p.method, p.path, role, status)
		case !want && !strings.Contains(body, string(role)):
			t.Errorf("%s %s as %s: the refusal does not say why", p.method, p.path, role)
		}
		if p.path == "/logout" && status == http.StatusSeeOther {
			sessions[role] = loginAs(t, n, string(role)+"@staff.example.org")
		}
	}
}
