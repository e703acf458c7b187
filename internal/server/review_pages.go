package server

// reviewPages adds the data collection review's portal pages.
func (s *Server) reviewPages() {}
