package index

// interner makes equal strings share one copy: a 100k-track library has a
// few thousand distinct artists, albums and genres, so interning saves most
// of their bytes. It is owned by one goroutine at a time (Start, then the run
// goroutine) and reset after each complete scan so names no longer used are
// not kept forever.
type interner map[string]string

// bytes returns the interned string equal to b. The map lookup with
// string(b) does not allocate; only a new value is copied.
func (in interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in[string(b)]; ok {
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

func (in interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in[s]; ok {
		return v
	}
	in[s] = s
	return s
}

// track interns t's repeated fields in place. t must not be published yet.
func (in interner) track(t *Track) {
	t.Origin = in.str(t.Origin)
	t.Artist = in.str(t.Artist)
	t.AlbumArtist = in.str(t.AlbumArtist)
	t.Album = in.str(t.Album)
	t.Genre = in.str(t.Genre)
}

// reseeded returns a fresh interner holding only the strings of tracks.
func reseeded(tracks []*Track) interner {
	in := make(interner, len(tracks)/8)
	for _, t := range tracks {
		for _, s := range [...]string{t.Origin, t.Artist, t.AlbumArtist, t.Album, t.Genre} {
			if s != "" {
				in[s] = s
			}
		}
	}
	return in
}
