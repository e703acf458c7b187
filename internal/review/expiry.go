package review

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/store"
)

// DefaultExpiryNotice is how long before an expiry its owner is told.
const DefaultExpiryNotice = 14 * 24 * time.Hour

// Expiring is a dataset or field whose collection ends soon.
type Expiring struct {
	Key     string
	Owner   string
	Expires time.Time
	// Expired says the date has passed: collection already refuses it.
	Expired bool
}

// ExpiringSoon lists what the registry in force stops collecting within
// the notice period, or already stopped, soonest first.
func (s *Service) ExpiringSoon(now time.Time) []Expiring {
	within := s.ExpiryNotice
	if within <= 0 {
		within = DefaultExpiryNotice
	}
	reg := s.Registry.Current()
	if reg == nil {
		return nil
	}
	var out []Expiring
	add := func(key, owner string, exp time.Time) {
		if !exp.IsZero() && exp.Sub(now) <= within {
			out = append(out, Expiring{Key: key, Owner: owner, Expires: exp, Expired: !now.Before(exp)})
		}
	}
	for _, d := range reg.Datasets {
		add(d.Name, d.Owner, d.Expires)
		for _, f := range d.Fields {
			add(d.Name+"."+f.Name, d.Owner, f.Expires)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Expires.Before(out[j].Expires) })
	return out
}

// NotifyExpiring mails each owner once per expiry date, with a link to
// propose the renewal. The notice is recorded in the transaction that
// enqueues it, so it goes once however many nodes tick.
func (s *Service) NotifyExpiring(ctx context.Context) error {
	now := s.now()
	for _, e := range s.ExpiringSoon(now) {
		if e.Expired || e.Owner == "" {
			continue
		}
		link := fmt.Sprintf("%s/admin/reviews/new?renew=%s", strings.TrimSuffix(s.PublicURL, "/"), url.QueryEscape(e.Key))
		msg := store.OutboxMessage{Kind: store.OutboxEmail, To: e.Owner, CreatedAt: now, Ref: "expiry:" + e.Key,
			Subject: fmt.Sprintf("%s stops being collected on %s", e.Key, e.Expires.Format(time.DateOnly)),
			Body: fmt.Sprintf("The registry says %s expires on %s (%s from now). From that day steward refuses its events.\n\n"+
				"To keep collecting it, propose a renewal (a new expires date) for review:\n%s\n", e.Key, e.Expires.Format(time.DateOnly),
				registry.FormatDuration(e.Expires.Sub(now).Truncate(time.Hour)), link)}
		sent := false
		err := s.Store.InTx(ctx, func(tx store.Tx) error {
			ok, err := tx.MarkExpiryNotice(ctx, e.Key, e.Expires, now)
			if err != nil || !ok {
				return err
			}
			sent = true
			return tx.EnqueueOutbox(ctx, []store.OutboxMessage{msg})
		})
		if err != nil {
			return err
		}
		if sent {
			s.log().Info("review: told the owner that a collection expires soon", "key", e.Key, "expires", e.Expires.Format(time.DateOnly))
			if s.Wake != nil {
				s.Wake()
			}
		}
	}
	return nil
}
