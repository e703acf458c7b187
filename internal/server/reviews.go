package server

import (
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/reviewapi"
)

// reviewRoutes adds the data collection review's API. Reading is open to
// proposers, reviewers and auditors; acting is open to every person role
// at the door, and the review itself decides who may take which action
// (the proposer submits, a required role signs, a product owner decides).
func (s *Server) reviewRoutes() {
	api := &reviewapi.API{Reviews: s.Reviews, Log: s.Log}
	s.handle("GET /v1/reviews", review.ReaderRoles, hf(api.List))
	s.handle("POST /v1/reviews", review.ProposerRoles, hf(api.Create))
	s.handle("GET /v1/reviews/{id}", review.ReaderRoles, hf(api.Get))
	s.handle("GET /v1/reviews/{id}/request.md", review.ReaderRoles, hf(api.Document))
	s.handle("POST /v1/reviews/{id}/{action}", auth.PersonRoles(), hf(api.Act))
}
