package tags

// readDFF reads DSDIFF: the ID3 chunk. (Not written yet.)
func (f *file) readDFF(off int64) {}
