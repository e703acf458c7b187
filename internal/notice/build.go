package notice

import (
	"errors"
	"slices"
	"time"

	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
)

// RequestPath is the public request form the notice links to.
const RequestPath = "/privacy/requests/new"

// Inputs are everything a notice is generated from.
type Inputs struct {
	Registry *registry.Registry
	// Policy is the read policy as it governs Registry.
	Policy *policy.Policy
	// Systems are the connectors' declarations, steward's own event
	// store first.
	Systems []System
	// OptOut are the consent signals collection honours
	// (consent.Honoured).
	OptOut []string
	// ReceiveRound is the precision kept of each event's receive time.
	ReceiveRound time.Duration
	// TrustedProxies: X-Forwarded-For from configured proxies names the
	// client's address. RateLimited: collection limits requests per
	// client network.
	TrustedProxies, RateLimited bool
	// AccessLogReaders and RequestWorkers are the roles of those routes.
	AccessLogReaders []string
	RequestWorkers   []string
	// Grace is the erasure's time between deactivation and purge;
	// SupportNotified says support is told of each new request.
	Grace           time.Duration
	SupportNotified bool
}

// Build generates the notice. It is a pure function of its inputs.
func Build(in Inputs) (*Notice, error) {
	if in.Registry == nil || in.Policy == nil {
		return nil, errors.New("notice: a registry and a read policy are needed")
	}
	reg := in.Registry
	n := &Notice{
		Controller:       Controller{Name: reg.Controller.Name, Contact: reg.Controller.Contact, DPO: reg.Controller.DPO},
		Datasets:         make([]Dataset, 0, len(reg.Datasets)),
		OptOut:           slices.Clone(in.OptOut),
		RateLimited:      in.RateLimited,
		AccessLogReaders: slices.Clone(in.AccessLogReaders),
		Requests: Requests{Path: RequestPath, Systems: slices.Clone(in.Systems), Grace: Duration(in.Grace),
			SupportNotified: in.SupportNotified, Workers: slices.Clone(in.RequestWorkers)},
	}
	if len(in.Systems) > 0 {
		n.Location = in.Systems[0].Location
	}
	for _, d := range reg.Datasets {
		n.Datasets = append(n.Datasets, dataset(d, in))
	}
	return n, nil
}

func dataset(d *registry.Dataset, in Inputs) Dataset {
	out := Dataset{
		Name: d.Name, Description: d.Description, Purpose: d.Purpose, LawfulBasis: d.LawfulBasis,
		Retention: Duration(d.Retention), From: FromBrowser, Origins: slices.Clone(d.Access.Origins),
		Endpoint: "/v1/collect/" + d.Name, SampleRate: d.SampleRate,
	}
	if out.SampleRate == 0 {
		out.SampleRate = 1
	}
	if d.PathAlias != "" {
		out.Endpoint = d.PathAlias
	}
	if !d.Expires.IsZero() {
		out.Expires = d.Expires.Format(time.DateOnly)
	}
	if d.Access.ServerToServer {
		out.From, out.Origins = FromServer, nil
	}
	if d.Subject != nil {
		sf := d.Field(d.Subject.Field)
		out.Subject = &Subject{Field: d.Subject.Field, Kind: d.Subject.Kind, Hashed: sf != nil && sf.Minimise.Hash}
		out.Suppressed = Duration(d.SuppressFor())
	}
	for _, f := range d.Fields {
		out.Fields = append(out.Fields, field(f, d.Retention))
	}
	out.Received = received(d, out.From, in)
	out.Computed = computed(d, in)
	out.Readers = readers(d, in.Policy)
	out.Can, out.Cannot = questions(d, in)
	return out
}

func field(f *registry.Field, retention time.Duration) Field {
	out := Field{Name: f.Name, Description: f.Description, Type: string(f.Type), Category: int(f.Category),
		Source: string(f.Source), Required: f.Required, Values: slices.Clone(f.Values), Min: f.Min, Max: f.Max,
		Stored: stored(f)}
	if out.Source == "" {
		out.Source = string(registry.SourcePayload)
	}
	if out.Stored.Form != NotStored {
		out.Retention = Duration(retention)
	}
	for _, m := range f.Fields {
		mf := field(m, 0)
		mf.Retention = 0
		out.Members = append(out.Members, mf)
	}
	if f.Items != nil {
		it := field(f.Items, 0)
		it.Retention = 0
		out.Items = &it
	}
	return out
}

// stored is the form minimisation leaves, decided as collection does:
// drop wins, then the type's transformation.
func stored(f *registry.Field) Stored {
	m := f.Minimise
	switch {
	case m.Drop:
		return Stored{Form: NotStored}
	case m.Hash:
		return Stored{Form: Hashed}
	case f.Type == registry.TypeIP:
		return Stored{Form: Truncated, IPv4: m.TruncateV4, IPv6: m.TruncateV6}
	case f.Type == registry.TypeUserAgent:
		return Stored{Form: Coarse}
	case f.Type == registry.TypeTimestamp && m.Round > 0:
		return Stored{Form: Rounded, Round: Duration(m.Round)}
	}
	return Stored{Form: AsSent}
}

// fieldsFrom lists the stored fields of d whose value steward takes from
// the request (source: request) of type t.
func fieldsFrom(d *registry.Dataset, t registry.Type) []string {
	var out []string
	for _, f := range d.Fields {
		if f.Type == t && f.Source == registry.SourceRequest && !f.Minimise.Drop {
			out = append(out, f.Name)
		}
	}
	return out
}

func received(d *registry.Dataset, from string, in Inputs) []Received {
	var body []string
	for _, f := range d.Fields {
		if f.Source == "" || f.Source == registry.SourcePayload {
			body = append(body, f.Name)
		}
	}
	out := []Received{{Item: RecvBody, Fields: body},
		{Item: RecvAddress, Fields: fieldsFrom(d, registry.TypeIP)},
		{Item: RecvUserAgent, Fields: fieldsFrom(d, registry.TypeUserAgent)}}
	if in.TrustedProxies {
		out = append(out, Received{Item: RecvForwardedIP, Fields: fieldsFrom(d, registry.TypeIP)})
	}
	if from == FromServer {
		return append(out, Received{Item: RecvWriteKey})
	}
	out = append(out, Received{Item: RecvCookies}, Received{Item: RecvCSRFHeader})
	if len(d.Access.Origins) > 0 {
		out = append(out, Received{Item: RecvOrigin})
	}
	for _, s := range in.OptOut {
		switch s {
		case "gpc":
			out = append(out, Received{Item: RecvGPC})
		case "dnt":
			out = append(out, Received{Item: RecvDNT})
		}
	}
	return out
}

func computed(d *registry.Dataset, in Inputs) []Computed {
	out := []Computed{{Item: CompReceiveTime, Round: Duration(in.ReceiveRound)}}
	if d.Subject != nil {
		out = append(out, Computed{Item: CompSubjectKey, Field: d.Subject.Field})
	}
	out = append(out, Computed{Item: CompEventID})
	for _, f := range d.Fields {
		if (f.Source == registry.SourceRequest || f.Source == registry.SourceServer) && !f.Minimise.Drop {
			out = append(out, Computed{Item: CompField, Field: f.Name})
		}
	}
	return out
}

func readers(d *registry.Dataset, p *policy.Policy) []Reader {
	var out []Reader
	for _, r := range p.Rules(d.Name) {
		rd := Reader{Role: string(r.Role), Purposes: slices.Clone(r.Purposes), MaxCategory: int(r.MaxCategory),
			Lookup: r.Lookup, RawIdentifiers: r.RawIdentifiers, Fields: []string{}}
		for _, f := range d.Fields {
			if f.Category > r.MaxCategory || f.Minimise.Drop {
				continue
			}
			// A direct identifier stored as given is withheld without
			// raw_identifiers (readapi); the subject key is always sent.
			if d.Subject != nil && f.Name == d.Subject.Field && !f.Minimise.Hash && !r.RawIdentifiers {
				continue
			}
			rd.Fields = append(rd.Fields, f.Name)
		}
		out = append(out, rd)
	}
	return out
}

// questions derives what the stored data can and cannot tell, from the
// declared minimisation only: nothing is claimed that the registry does
// not make true.
func questions(d *registry.Dataset, in Inputs) (can, cannot []Question) {
	if d.Subject != nil {
		can = append(can, Question{Kind: QFindBySubject, Field: d.Subject.Field})
	} else {
		cannot = append(cannot, Question{Kind: QNotLinked})
	}
	var ips []*registry.Field
	for _, f := range d.Fields {
		if f.Type == registry.TypeIP {
			ips = append(ips, f)
		}
	}
	addressKept := false
	for _, f := range ips {
		if f.Minimise.Drop {
			continue
		}
		kind := QNetwork
		if d.Access.ServerToServer && f.Source == registry.SourceRequest {
			// The connection is the product's server's, not the person's.
			kind = QServerNetwork
		} else {
			addressKept = true
		}
		can = append(can, Question{Kind: kind, Field: f.Name, IPv4: f.Minimise.TruncateV4, IPv6: f.Minimise.TruncateV6})
	}
	// Collection records the receive time of every event, rounded.
	finest := in.ReceiveRound
	for _, f := range d.Fields {
		if f.Type == registry.TypeTimestamp && !f.Minimise.Drop && f.Minimise.Round < finest {
			finest = f.Minimise.Round
		}
	}
	can = append(can, Question{Kind: QTime, Round: Duration(finest)})
	if addressKept {
		cannot = append(cannot, Question{Kind: QExactAddress})
	} else {
		cannot = append(cannot, Question{Kind: QNoAddress})
	}
	cannot = append(cannot, Question{Kind: QExactAgent})
	if finest > 0 {
		cannot = append(cannot, Question{Kind: QExactTime, Round: Duration(finest)})
	}
	for _, f := range d.Fields {
		switch {
		case f.Minimise.Drop:
			cannot = append(cannot, Question{Kind: QDropped, Field: f.Name})
		case f.Minimise.Hash:
			cannot = append(cannot, Question{Kind: QHashedValue, Field: f.Name})
		}
	}
	return can, append(cannot, Question{Kind: QUndeclared})
}
