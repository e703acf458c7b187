package server

// reviewRoutes adds the data collection review's API.
func (s *Server) reviewRoutes() {}
