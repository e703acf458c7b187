package auditapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/problem"
)

// maxExternal bounds one report: 500 accesses of modest size.
const (
	maxExternal     = 500
	maxExternalBody = 1 << 20
)

// ExternalAccess is one access another system reports having made.
type ExternalAccess struct {
	At time.Time `json:"at"`
	// Actor is who read (a person, a service, a database role).
	Actor string `json:"actor"`
	// Credential is how they were signed in there (no secret).
	Credential string `json:"credential"`
	// Role is the steward role the actor's access maps to ("" when it
	// maps to none, which the monitor reports).
	Role     string   `json:"role"`
	Purpose  string   `json:"purpose"`
	Dataset  string   `json:"dataset"`
	Query    string   `json:"query"`
	Records  int64    `json:"records"`
	Subjects []string `json:"subject_keys"`
	// ClientIP is minimised (/24, /48) before it is stored.
	ClientIP string `json:"client_ip"`
}

type externalError struct {
	Index int    `json:"index"`
	Field string `json:"field"`
	Error string `json:"error"`
}

// External takes POST /v1/access-log/external: {"accesses": [...]}. Each
// access becomes an entry in the one chain, appended before 201 answers;
// an invalid report stores none of them.
func (a *API) External(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		problem.New(w, http.StatusUnsupportedMediaType, "content-type", "send the body as application/json")
		return
	}
	var in struct {
		Accesses []ExternalAccess `json:"accesses"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxExternalBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			problem.New(w, http.StatusRequestEntityTooLarge, "too-large", "a report is at most 1 MiB")
			return
		}
		problem.New(w, http.StatusBadRequest, "bad-json", "the body must be one JSON object {\"accesses\": [...]}: "+err.Error())
		return
	}
	if dec.More() {
		problem.New(w, http.StatusBadRequest, "bad-json", "unexpected data after the JSON object")
		return
	}
	now := a.Clock.Now().UTC()
	reg := a.Registry.Current()
	p, _ := auth.FromContext(r.Context())
	var errs []externalError
	if len(in.Accesses) == 0 || len(in.Accesses) > maxExternal {
		errs = append(errs, externalError{Field: "accesses", Error: fmt.Sprintf("give 1 to %d accesses", maxExternal)})
	}
	entries := make([]*accesslog.Entry, 0, len(in.Accesses))
	for i, x := range in.Accesses {
		bad := func(field, f string, args ...any) {
			errs = append(errs, externalError{Index: i, Field: field, Error: fmt.Sprintf(f, args...)})
		}
		switch {
		case x.At.IsZero():
			bad("at", "when the access happened, as RFC 3339")
		case x.At.After(now.Add(5 * time.Minute)):
			bad("at", "is in the future")
		}
		if s := strings.TrimSpace(x.Actor); s == "" || len(s) > 200 {
			bad("actor", "who read: 1 to 200 characters")
		}
		if len(x.Credential) > 200 || len(x.Purpose) > 100 || len(x.Query) > 2000 {
			bad("credential", "credential at most 200, purpose 100, query 2000 characters")
		}
		if x.Role != "" && (!auth.ValidRole(x.Role) || x.Role == string(auth.System)) {
			bad("role", "%q is not a steward role (leave it empty when the access maps to none)", x.Role)
		}
		if reg == nil || reg.Dataset(x.Dataset) == nil {
			bad("dataset", "%q is not a dataset of the registry in force", x.Dataset)
		}
		if x.Records < 0 {
			bad("records", "must not be negative")
		}
		if len(x.Subjects) > 10000 {
			bad("subject_keys", "at most 10000 per access")
		}
		for _, k := range x.Subjects {
			if k == "" || len(k) > 128 || strings.ContainsAny(k, " \t\n") {
				bad("subject_keys", "a subject key is a keyed hash of up to 128 characters without spaces")
				break
			}
		}
		e := &accesslog.Entry{At: x.At.UTC(), Actor: strings.TrimSpace(x.Actor), AuthMethod: "external", CredentialID: x.Credential,
			Role: x.Role, Purpose: x.Purpose, Dataset: x.Dataset, Query: x.Query, Records: x.Records, SubjectKeys: x.Subjects,
			Decision: accesslog.Allowed, Reason: "reported by " + p.Name}
		if x.ClientIP != "" {
			ip, err := netip.ParseAddr(x.ClientIP)
			if err != nil {
				bad("client_ip", "not an IP address")
			} else {
				e.ClientNet = minimise.TruncateIP(ip, 24, 48).String()
			}
		}
		entries = append(entries, e)
	}
	if len(errs) > 0 {
		problem.Write(w, problem.Details{Type: "urn:steward:problem:invalid", Status: http.StatusBadRequest,
			Detail: "the report has invalid accesses; none was recorded", Errors: errs})
		return
	}
	seqs := make([]int64, 0, len(entries))
	for _, e := range entries {
		// One by one through the group commit, so each is durable
		// before the answer names it.
		if err := a.Access.Append(r.Context(), e); err != nil {
			a.Log.Error("access log: external report append failed", "err", err)
			w.Header().Set("Retry-After", "5")
			problem.New(w, http.StatusServiceUnavailable, "unavailable", "the access log is unavailable; the accesses recorded so far are listed by seq in the log, retry the rest later")
			return
		}
		seqs = append(seqs, e.Seq)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{"recorded": len(seqs), "seqs": seqs})
}
