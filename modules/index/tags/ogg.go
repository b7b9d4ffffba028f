package tags

// readOgg reads Ogg Vorbis, Opus, Speex and FLAC comment packets. (Not written yet.)
func (f *file) readOgg(off int64) {}
