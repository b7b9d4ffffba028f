package tags

// readAIFF reads AIFF/AIFC: the ID3 chunk and text chunks. (Not written yet.)
func (f *file) readAIFF(off int64) {}
