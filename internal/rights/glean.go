package rights

import (
	"context"
	"errors"
	"fmt"

	"github.com/steward-privacy/steward/internal/store"
)

// GleanDeletion starts the erasure a Glean deletion-request ping asks
// for: every dataset's events of that client id, from the moment the
// request is recorded (the deactivation puts the client on the
// suppression list, so its further pings are dropped). The client id is
// the credential: only the client that sent pings holds it, and Glean
// sends this ping when the person turns upload off, so no e-mail
// confirmation is asked (there is no address to ask). A second ping for
// the same client finds the open request and changes nothing.
func (s *Service) GleanDeletion(ctx context.Context, appID, clientID string) (store.Request, error) {
	now := s.Clock.Now().UTC()
	l, ok := s.Config.Laws[s.Config.DefaultLaw]
	if !ok {
		return store.Request{}, fmt.Errorf("%w: unknown law %q", ErrBadIntake, s.Config.DefaultLaw)
	}
	r := store.Request{
		ID: newID(), Channel: ChannelGlean, Type: Erasure, GleanClientID: clientID, Law: s.Config.DefaultLaw,
		DueAt: l.Due(now), CreatedAt: now, UpdatedAt: now, StatusAt: now, Version: 1, Status: string(Received),
	}
	r.SubjectKey = s.subjectKey(r)
	r.StatusTokenHash = hashToken(s.statusToken(r.ID))
	note := "erasure asked by a Glean deletion-request ping from " + appID + ": the client id is the credential (only that client holds it), so no e-mail confirmation is asked; steward's own events are erased, other systems know nobody by a Glean client id"
	r, err := s.machine().Create(ctx, r, ChannelGlean, note)
	if errors.Is(err, store.ErrConflict) {
		if existing, err2 := s.Store.RequestBySubject(ctx, r.SubjectKey, Erasure); err2 == nil {
			return existing, nil
		}
	}
	if err != nil {
		return r, err
	}
	if r, err = s.Take(ctx, r.ID, ChannelGlean); err != nil {
		return r, err
	}
	return s.Execute(ctx, r.ID, ChannelGlean)
}
