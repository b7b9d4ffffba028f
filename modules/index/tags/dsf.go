package tags

// readDSF reads DSF: the ID3v2 tag at the metadata offset. (Not written yet.)
func (f *file) readDSF(off int64) {}
