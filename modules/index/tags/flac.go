package tags

// readFLAC reads Vorbis comments in FLAC metadata blocks. (Not written yet.)
func (f *file) readFLAC(off int64) {}
