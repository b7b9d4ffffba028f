package tags

// readModule reads the title of a tracker module. (Not written yet.)
func (f *file) readModule(off int64) {}
