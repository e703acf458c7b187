package connectors

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/steward-privacy/steward/internal/rights"
)

// File is the requests settings file (--rights): the rules requests follow
// and the systems that hold personal data.
type File struct {
	Requests struct {
		DefaultLaw string `yaml:"default_law"`
		Laws       map[string]struct {
			Months       int `yaml:"months"`
			Days         int `yaml:"days"`
			ExtendMonths int `yaml:"extend_months"`
			ExtendDays   int `yaml:"extend_days"`
		} `yaml:"laws"`
		ConfirmWithin  time.Duration  `yaml:"confirm_within"`
		AnswerWithin   time.Duration  `yaml:"answer_within"`
		Grace          *time.Duration `yaml:"grace"`
		ExportTTL      time.Duration  `yaml:"export_ttl"`
		SupportEmail   string         `yaml:"support_email"`
		SupportWebhook string         `yaml:"support_webhook"`
		Controller     string         `yaml:"controller"`
		// EventsLabel names steward's own event store for the person.
		EventsLabel string `yaml:"events_label"`
	} `yaml:"requests"`
	// Identity names the SQL connector whose identity queries resolve
	// accounts.
	Identity string `yaml:"identity"`
	// Location is the country steward and its database run in (ISO
	// 3166-1 alpha-2), for the notice and the records of processing.
	Location   string      `yaml:"location"`
	Connectors []yaml.Node `yaml:"connectors"`
}

// Set is what a File configures.
type Set struct {
	// List is every connector, steward's own events first.
	List     []rights.Connector
	Identity rights.Identity
	Webhooks map[string]*Webhook
	SQL      []*SQL
	// Declared describes every system in List, in the same order, as the
	// settings declare it to people.
	Declared []Declared
}

// Close releases the SQL connectors' databases.
func (s *Set) Close() {
	for _, c := range s.SQL {
		c.Close()
	}
}

// Load reads path (empty: defaults only), applies it to cfg and builds
// the connectors after events (steward's own store, always first).
func Load(path string, cfg *rights.Config, events *Events) (*Set, error) {
	set := &Set{List: []rights.Connector{events}, Webhooks: map[string]*Webhook{},
		Declared: []Declared{{Name: events.Name(), Kind: "events"}}}
	if path == "" {
		return set, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("requests settings: %w", err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	rq := f.Requests
	if len(rq.Laws) > 0 {
		cfg.Laws = map[string]rights.Law{}
		for name, l := range rq.Laws {
			if l.Months == 0 && l.Days == 0 {
				return nil, fmt.Errorf("%s: law %s needs months or days", path, name)
			}
			cfg.Laws[name] = rights.Law{Months: l.Months, Days: l.Days, ExtendMonths: l.ExtendMonths, ExtendDays: l.ExtendDays}
		}
	}
	if rq.DefaultLaw != "" {
		cfg.DefaultLaw = rq.DefaultLaw
	}
	for _, d := range []struct {
		v   time.Duration
		dst *time.Duration
	}{{rq.ConfirmWithin, &cfg.ConfirmWithin}, {rq.AnswerWithin, &cfg.AnswerWithin}, {rq.ExportTTL, &cfg.ExportTTL}} {
		if d.v != 0 {
			*d.dst = d.v
		}
	}
	if rq.Grace != nil {
		cfg.Grace = *rq.Grace
	}
	if rq.SupportEmail != "" {
		cfg.SupportEmail = rq.SupportEmail
	}
	if rq.SupportWebhook != "" {
		cfg.SupportWebhook = rq.SupportWebhook
	}
	if rq.Controller != "" {
		cfg.Controller = rq.Controller
	}
	if rq.EventsLabel != "" {
		events.Words = rq.EventsLabel
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if set.Declared[0].Location, err = checkLocation(path, f.Location); err != nil {
		return nil, err
	}
	names := map[string]bool{events.Name(): true}
	for i := range f.Connectors {
		n := &f.Connectors[i]
		var head struct {
			Name string `yaml:"name"`
			Kind string `yaml:"kind"`
		}
		_ = n.Decode(&head)
		if head.Name == "" || names[head.Name] {
			return nil, fmt.Errorf("%s:%d: every connector needs a unique name", path, n.Line)
		}
		names[head.Name] = true
		// Decode again strictly into the kind's settings.
		strict := func(v any) error {
			raw, _ := yaml.Marshal(n)
			var m map[string]any
			_ = yaml.Unmarshal(raw, &m)
			delete(m, "kind")
			raw, _ = yaml.Marshal(m)
			d := yaml.NewDecoder(bytes.NewReader(raw))
			d.KnownFields(true)
			return d.Decode(v)
		}
		switch head.Kind {
		case "sql":
			var c SQLConfig
			if err := strict(&c); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n.Line, err)
			}
			d, err := declared(c.Name, "sql", c.Label, c.Location, c.Safeguards, fmt.Sprintf("%s:%d: connector %s", path, n.Line, c.Name))
			if err != nil {
				set.Close()
				return nil, err
			}
			conn, err := NewSQL(c)
			if err != nil {
				set.Close()
				return nil, fmt.Errorf("%s:%d: %v", path, n.Line, err)
			}
			set.SQL = append(set.SQL, conn)
			set.Declared = append(set.Declared, d)
			set.List = append(set.List, conn)
			if f.Identity == c.Name {
				set.Identity = conn
			}
		case "webhook":
			var c WebhookConfig
			if err := strict(&c); err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n.Line, err)
			}
			if env := os.Getenv("STEWARD_CONNECTOR_" + envName(c.Name) + "_SECRET"); env != "" {
				c.Secret = env
			}
			d, err := declared(c.Name, "webhook", c.Label, c.Location, c.Safeguards, fmt.Sprintf("%s:%d: connector %s", path, n.Line, c.Name))
			if err != nil {
				set.Close()
				return nil, err
			}
			conn, err := NewWebhook(c)
			if err != nil {
				set.Close()
				return nil, fmt.Errorf("%s:%d: %v", path, n.Line, err)
			}
			set.Webhooks[c.Name] = conn
			set.Declared = append(set.Declared, d)
			set.List = append(set.List, conn)
		default:
			return nil, fmt.Errorf("%s:%d: connector %s: kind must be sql or webhook", path, n.Line, head.Name)
		}
	}
	if f.Identity != "" && set.Identity == nil {
		set.Close()
		return nil, fmt.Errorf("%s: identity names %q, which is not an SQL connector here", path, f.Identity)
	}
	return set, nil
}

func envName(s string) string {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 32
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}
