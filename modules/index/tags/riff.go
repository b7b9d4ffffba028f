package tags

// readRIFF reads RIFF/WAVE: the id3 chunk and LIST/INFO. (Not written yet.)
func (f *file) readRIFF(off int64) {}
