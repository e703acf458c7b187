package server

import (
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/web/portal"
)

// reviewPages adds the data collection review's portal pages. Anyone who
// may read proposals sees them; the forms are for those who may act, and
// the review service decides each action again.
func (s *Server) reviewPages() {
	p := &portal.Reviews{Service: s.Reviews, Log: s.Log}
	s.page("GET /admin/reviews", review.ReaderRoles, hf(p.ReviewList))
	s.page("GET /admin/reviews/new", review.ProposerRoles, hf(p.ReviewNew))
	s.page("POST /admin/reviews", review.ProposerRoles, hf(p.ReviewCreate))
	s.page("GET /admin/reviews/{id}", review.ReaderRoles, hf(p.ReviewDetail))
	s.page("GET /admin/reviews/{id}/request.md", review.ReaderRoles, hf(p.ReviewMarkdown))
	s.page("POST /admin/reviews/{id}/{action}", review.ProposerRoles, hf(p.ReviewAct))
}
