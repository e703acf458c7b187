package accesslog

import (
	"context"
	"net/http"
	"time"

	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clientip"
	"github.com/steward-privacy/steward/internal/minimise"
)

// Readers are the roles that may read the access log (GET /v1/access-log);
// the public notice names them as the ones who check it.
var Readers = []auth.Role{auth.Auditor, auth.IncidentManager}

// Recorder appends entries to the access log and returns only once the
// entry is durable, with its Seq, PrevHash and Hash filled in. Handlers
// call it before any personal data leaves steward, so a crash can lose a
// response but never an access.
type Recorder interface {
	Append(ctx context.Context, e *Entry) error
}

// ForRequest starts an entry for a request by p: who, how, from which
// (minimised) network and when. The caller adds what was asked and the
// outcome.
func ForRequest(r *http.Request, p auth.Principal, ips clientip.Resolver, now time.Time) *Entry {
	e := &Entry{
		At: now.UTC(), Actor: p.Name, AuthMethod: p.Method, CredentialID: p.CredentialID,
		Role: string(p.Role),
	}
	if a := ips.Addr(r); a.IsValid() {
		e.ClientNet = minimise.TruncateIP(a, 24, 48).String()
	}
	return e
}
