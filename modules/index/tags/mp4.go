package tags

// readMP4 reads MP4 ilst atoms. (Not written yet.)
func (f *file) readMP4(off int64) {}
