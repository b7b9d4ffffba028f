package index

import "strings"

// interner makes equal strings, and equal lists of them, share one copy: a
// 100k-track library has a few thousand distinct artists, albums and genres,
// so interning saves most of their bytes. It is owned by one goroutine at a
// time (Start, then the run goroutine) and reset after each complete scan so
// names no longer used are not kept forever.
type interner struct {
	strs  map[string]string
	lists map[string][]string // by the values joined with NUL
}

func newInterner(hint int) interner {
	return interner{strs: make(map[string]string, hint), lists: make(map[string][]string, hint)}
}

func (in interner) clear() {
	clear(in.strs)
	clear(in.lists)
}

// bytes returns the interned string equal to b. The map lookup with
// string(b) does not allocate; only a new value is copied.
func (in interner) bytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := in.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	in.strs[s] = s
	return s
}

func (in interner) str(s string) string {
	if s == "" {
		return ""
	}
	if v, ok := in.strs[s]; ok {
		return v
	}
	in.strs[s] = s
	return s
}

// list returns the interned list equal to vs, its strings interned too.
// Records share lists read-only.
func (in interner) list(vs []string) []string {
	switch len(vs) {
	case 0:
		return nil
	case 1:
		k := in.str(vs[0])
		if l, ok := in.lists[k]; ok {
			return l
		}
		l := []string{k}
		in.lists[k] = l
		return l
	}
	key := strings.Join(vs, "\x00")
	if l, ok := in.lists[key]; ok {
		return l
	}
	l := make([]string, len(vs))
	for i, v := range vs {
		l[i] = in.str(v)
	}
	in.lists[key] = l
	return l
}

// track interns t's repeated fields in place. t must not be published yet.
func (in interner) track(t *Track) {
	t.Origin = in.str(t.Origin)
	t.Artists = in.list(t.Artists)
	t.AlbumArtists = in.list(t.AlbumArtists)
	t.Album = in.str(t.Album)
	t.Genres = in.list(t.Genres)
}

// reseeded returns a fresh interner holding only the strings and lists of
// tracks. The records are published: it reads them and changes nothing.
func reseeded(tracks []*Track) interner {
	in := newInterner(len(tracks) / 8)
	keep := func(l []string) {
		for _, v := range l {
			in.strs[v] = v
		}
		if len(l) > 0 {
			in.lists[strings.Join(l, "\x00")] = l
		}
	}
	for _, t := range tracks {
		for _, s := range [...]string{t.Origin, t.Album} {
			if s != "" {
				in.strs[s] = s
			}
		}
		keep(t.Artists)
		keep(t.AlbumArtists)
		keep(t.Genres)
	}
	return in
}
