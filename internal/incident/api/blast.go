package api

import (
	"net/http"
	"time"

	"github.com/steward-privacy/steward/internal/apijson"
	"github.com/steward-privacy/steward/internal/incident"
)

// Window sets the window of the incident's blast radius and answers the
// incident with the radius computed for it: {"from", "to", "credential",
// "dataset", "source", "version"}, every one optional (see
// incident.WindowInput for what an empty one means).
func (a *API) Window(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var in struct {
		From       *time.Time `json:"from"`
		To         *time.Time `json:"to"`
		Credential string     `json:"credential"`
		Dataset    string     `json:"dataset"`
		Source     string     `json:"source"`
		Version    int64      `json:"version"`
	}
	if !apijson.Decode(w, r, &in, 16<<10, "16 KiB") {
		return
	}
	wi := incident.WindowInput{Credential: in.Credential, Dataset: in.Dataset, Source: in.Source, Version: in.Version}
	if in.From != nil {
		wi.From = *in.From
	}
	if in.To != nil {
		wi.To = *in.To
	}
	i, err := a.Incidents.SetWindow(r.Context(), id, actor(r), wi)
	if err != nil {
		a.Fail(w, err)
		return
	}
	out := a.wire(i, a.Clock.Now().UTC())
	out.BlastRadius = blastOf(i)
	apijson.Write(w, http.StatusOK, out)
}
