package ensemble

// DirectoryChanged is closed at the next change of the node's views (for
// tests that wait on several nodes' directories at once).
func (s *Service) DirectoryChanged() <-chan struct{} { return *s.dir.changed.Load() }
