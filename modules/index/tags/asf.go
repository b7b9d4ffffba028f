package tags

// readASF reads ASF content description objects. (Not written yet.)
func (f *file) readASF(off int64) {}
