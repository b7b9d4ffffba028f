package tree

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/index"
)

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

// walk lists every node's path in depth-first name order, dirs with a
// trailing slash.
func walk(s *Snapshot) []string {
	var out []string
	var rec func(n *Node, prefix string)
	rec = func(n *Node, prefix string) {
		kids := s.Children(n)
		for i := range kids {
			c := &kids[i]
			p := prefix + c.Name
			if c.Dir {
				out = append(out, p+"/")
				rec(c, p+"/")
			} else {
				out = append(out, p)
			}
		}
	}
	rec(s.Root(), "")
	return out
}

func mustBuild(t testing.TB, tracks []*index.Track, views []View) *Snapshot {
	t.Helper()
	s, err := Build(tracks, Config{Views: views})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustFind(t testing.TB, s *Snapshot, p string) *Node {
	t.Helper()
	n := s.LookupPath(p)
	if n == nil {
		t.Fatalf("%s not found; tree:\n%s", p, strings.Join(walk(s), "\n"))
	}
	return n
}

func file(origin, rel string, mtime time.Time) *index.Track {
	return &index.Track{Origin: origin, RelPath: rel, Size: int64(len(rel)), ModTime: mtime}
}

func song(origin, rel, artist, album, title string, year, track int) *index.Track {
	return &index.Track{Origin: origin, RelPath: rel, Size: 100, ModTime: t0, Audio: true, Tagged: true,
		Artists: []string{artist}, Album: album, Title: title, Year: year, Track: track, Genres: []string{"Jazz"}}
}

func TestBuildDefaultViews(t *testing.T) {
	tracks := []*index.Track{
		song("nas", "Coltrane/Blue Train/02.flac", "John Coltrane", "Blue Train", "Moment's Notice", 1957, 2),
		song("nas", "Coltrane/Blue Train/01.flac", "John Coltrane", "Blue Train", "Blue Train", 1957, 1),
		file("nas", "Coltrane/Blue Train/notes.txt", t0),
		file("nas", "Coltrane/Blue Train/Cover.JPG", t0),
	}
	s := mustBuild(t, tracks, DefaultViews())
	want := []string{
		"Albums/",
		"Albums/Blue Train (1957) - John Coltrane/",
		"Albums/Blue Train (1957) - John Coltrane/01 Blue Train.flac",
		"Albums/Blue Train (1957) - John Coltrane/02 Moment's Notice.flac",
		"Albums/Blue Train (1957) - John Coltrane/Cover.JPG",
		"Artists/",
		"Artists/John Coltrane/",
		"Artists/John Coltrane/Blue Train (1957)/",
		"Artists/John Coltrane/Blue Train (1957)/01 Blue Train.flac",
		"Artists/John Coltrane/Blue Train (1957)/02 Moment's Notice.flac",
		"Artists/John Coltrane/Blue Train (1957)/Cover.JPG",
		"Genres/",
		"Genres/Jazz/",
		"Genres/Jazz/John Coltrane/",
		"Genres/Jazz/John Coltrane/Blue Train/",
		"Genres/Jazz/John Coltrane/Blue Train/01 Blue Train.flac",
		"Genres/Jazz/John Coltrane/Blue Train/02 Moment's Notice.flac",
		"Genres/Jazz/John Coltrane/Blue Train/Cover.JPG",
		"Origins/",
		"Origins/nas/",
		"Origins/nas/Coltrane/",
		"Origins/nas/Coltrane/Blue Train/",
		"Origins/nas/Coltrane/Blue Train/01.flac",
		"Origins/nas/Coltrane/Blue Train/02.flac",
		"Origins/nas/Coltrane/Blue Train/Cover.JPG",
		"Origins/nas/Coltrane/Blue Train/notes.txt",
		"Years/",
		"Years/1957/",
		"Years/1957/John Coltrane - Blue Train/",
		"Years/1957/John Coltrane - Blue Train/01 Blue Train.flac",
		"Years/1957/John Coltrane - Blue Train/02 Moment's Notice.flac",
		"Years/1957/John Coltrane - Blue Train/Cover.JPG",
	}
	if got := walk(s); !slices.Equal(got, want) {
		t.Fatalf("tree:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if s.Tracks() != 2 {
		t.Errorf("Tracks() = %d, want 2", s.Tracks())
	}
	if s.Len() != len(want)+1 {
		t.Errorf("Len() = %d, want %d", s.Len(), len(want)+1)
	}
	n := mustFind(t, s, "Artists/John Coltrane/Blue Train (1957)/02 Moment's Notice.flac")
	if n.Dir || n.Origin() != "nas" || n.RelPath() != "Coltrane/Blue Train/02.flac" || n.Size() != 100 || !n.ModTime().Equal(t0) {
		t.Errorf("node %+v", *n)
	}
	if tr := n.Track(); tr == nil || tr.RelPath != n.RelPath() || tr.Title != "Moment's Notice" {
		t.Errorf("Track() = %+v", tr)
	}
	if d := mustFind(t, s, "Artists/John Coltrane"); d.Track() != nil {
		t.Errorf("a directory's Track() = %+v, want nil", d.Track())
	}
	c := mustFind(t, s, "Years/1957/John Coltrane - Blue Train/Cover.JPG")
	if c.RelPath() != "Coltrane/Blue Train/Cover.JPG" || c.Size() != int64(len(c.RelPath())) {
		t.Errorf("cover node %+v", *c)
	}
}

func TestBuildOnlyViewsWhenEmpty(t *testing.T) {
	s := mustBuild(t, nil, DefaultViews())
	want := []string{"Albums/", "Artists/", "Genres/", "Origins/", "Years/"}
	if got := walk(s); !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
	if r := s.Root(); r.Ino != 1 || !r.Dir || r.Name != "" {
		t.Fatalf("root %+v", *r)
	}
	if s.Tracks() != 0 || s.Len() != 6 {
		t.Fatalf("Tracks %d Len %d", s.Tracks(), s.Len())
	}
	s = mustBuild(t, []*index.Track{song("o", "a.flac", "A", "B", "C", 0, 0)}, nil)
	if got := walk(s); !slices.Equal(got, []string{"Origins/", "Origins/o/", "Origins/o/a.flac"}) {
		t.Fatalf("no views: %q", got)
	}
}

func TestBuildRejectsBadViews(t *testing.T) {
	for _, views := range [][]View{
		{{Name: "A", Template: "{nope}"}},
		{{Name: "A", Template: "{title}"}, {Name: "A", Template: "{title}"}},
		{{Name: "Origins", Template: "{title}"}},
	} {
		if _, err := Build(nil, Config{Views: views}); err == nil {
			t.Errorf("Build(%v) succeeded", views)
		}
	}
}

func TestBuildOriginsView(t *testing.T) {
	tracks := []*index.Track{
		file("b", "x.txt", t0),
		file("a", "deep/er/still/file.bin", t0),
		song("a", "music/a.flac", "", "", "", 0, 0),
		file("a", "weird\x01name/../..", t0),
		file("a", "sl\\ash/.", t0),
		file("a", "dup/x.txt", t0),
		file("a", "dup/x.txt", t0.Add(time.Hour)), // duplicate record: the first wins
	}
	s := mustBuild(t, tracks, nil)
	want := []string{
		"Origins/",
		"Origins/a/",
		"Origins/a/deep/",
		"Origins/a/deep/er/",
		"Origins/a/deep/er/still/",
		"Origins/a/deep/er/still/file.bin",
		"Origins/a/dup/",
		"Origins/a/dup/x.txt",
		"Origins/a/music/",
		"Origins/a/music/a.flac",
		"Origins/a/sl\\ash/",
		"Origins/a/sl\\ash/．",
		"Origins/a/weirdname/",
		"Origins/a/weirdname/．．/",
		"Origins/a/weirdname/．．/．．",
		"Origins/b/",
		"Origins/b/x.txt",
	}
	if got := walk(s); !slices.Equal(got, want) {
		t.Fatalf("tree:\n%s", strings.Join(got, "\n"))
	}
	if n := mustFind(t, s, "Origins/a/dup/x.txt"); !n.ModTime().Equal(t0) {
		t.Errorf("duplicate record: got mtime %v", n.ModTime())
	}
	if s.Tracks() != 1 {
		t.Errorf("Tracks() = %d", s.Tracks())
	}
}

func TestBuildTagViewsOnlyAudio(t *testing.T) {
	tracks := []*index.Track{
		{Origin: "o", RelPath: "a.txt", Title: "Tagged but not audio", Artists: []string{"Nope"}},
		song("o", "b.flac", "Yes", "Al", "T", 0, 0),
	}
	s := mustBuild(t, tracks, DefaultViews())
	if got := s.Children(mustFind(t, s, "Artists")); len(got) != 1 || got[0].Name != "Yes" {
		t.Fatalf("Artists: %v", got)
	}
}

func TestBuildCovers(t *testing.T) {
	tracks := []*index.Track{
		song("o", "Album/CD1/01.flac", "A", "Album", "One", 2000, 1),
		song("o", "Album/CD2/01.flac", "A", "Album", "Two", 2000, 2),
		song("o", "Other/01.flac", "A", "Other", "Three", 2000, 1),
		file("o", "Album/CD1/cover.jpg", t0),
		file("o", "Album/CD1/Folder.PNG", t0),
		file("o", "Album/CD1/front.jpeg", t0),
		file("o", "Album/CD1/back.jpg", t0),
		file("o", "Album/CD1/cover.gif", t0),
		file("o", "Album/CD1/cover.jpg.txt", t0),
		file("o", "Album/CD2/cover.jpg", t0),
		file("o", "Album/cover.jpg", t0), // parent folder: not a track's folder
		file("p", "Other/cover.jpg", t0), // other origin
	}
	for i := range 5 {
		in := slices.Clone(tracks)
		rand.New(rand.NewPCG(uint64(i), 1)).Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
		s := mustBuild(t, in, DefaultViews())
		var got []string
		for _, c := range s.Children(mustFind(t, s, "Artists/A/Album (2000)")) {
			got = append(got, c.Name+" <- "+c.RelPath())
		}
		want := []string{
			"01 One.flac <- Album/CD1/01.flac",
			"02 Two.flac <- Album/CD2/01.flac",
			"Folder.PNG <- Album/CD1/Folder.PNG",
			"cover (2).jpg <- Album/CD2/cover.jpg",
			"cover.jpg <- Album/CD1/cover.jpg",
			"front.jpeg <- Album/CD1/front.jpeg",
		}
		if !slices.Equal(got, want) {
			t.Fatalf("album dir:\n%s", strings.Join(got, "\n"))
		}
		if got := s.Children(mustFind(t, s, "Artists/A/Other (2000)")); len(got) != 1 {
			t.Fatalf("other album has %d entries, want 1 (no cover from origin p)", len(got))
		}
		if got := s.Children(mustFind(t, s, "Artists/A")); len(got) != 2 {
			t.Fatalf("artist dir has %d entries, want 2 (covers only in album dirs)", len(got))
		}
		mustFind(t, s, "Years/2000/A - Album/cover (2).jpg")
	}
}

func TestBuildCollisionsDeterministic(t *testing.T) {
	tracks := []*index.Track{
		song("b", "x/1.flac", "A", "Al", "T", 0, 1),
		song("a", "z/1.flac", "A", "Al", "T", 0, 1),
		song("a", "y/1.flac", "A", "Al", "T", 0, 1),
		song("a", "w/1.flac", "A", "Al", "T (2)", 0, 1), // a real "01 T (2).flac"
		song("a", "v/1.mp3", "A", "Al", "T", 0, 1),      // other extension: no clash
	}
	want := []string{
		"01 T (2).flac <- a w/1.flac",
		"01 T (3).flac <- a z/1.flac",
		"01 T (4).flac <- b x/1.flac",
		"01 T.flac <- a y/1.flac",
		"01 T.mp3 <- a v/1.mp3",
	}
	for i := range 20 {
		in := slices.Clone(tracks)
		rand.New(rand.NewPCG(uint64(i), 2)).Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
		s := mustBuild(t, in, DefaultViews())
		var got []string
		for _, c := range s.Children(mustFind(t, s, "Artists/A/Al")) {
			got = append(got, c.Name+" <- "+c.Origin()+" "+c.RelPath())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("shuffle %d:\n%s", i, strings.Join(got, "\n"))
		}
	}
}

func TestBuildFileDirClash(t *testing.T) {
	// "a\x01" sanitises to "a", the name of a directory: the file is renamed.
	tracks := []*index.Track{
		file("o", "a\x01", t0),
		file("o", "a/b", t0),
		file("o", "a\x02", t0),
	}
	s := mustBuild(t, tracks, nil)
	want := []string{"Origins/", "Origins/o/", "Origins/o/a/", "Origins/o/a/b", "Origins/o/a (2)", "Origins/o/a (3)"}
	if got := walk(s); !slices.Equal(got, want) {
		t.Fatalf("got %q", got)
	}
	if n := mustFind(t, s, "Origins/o/a (2)"); n.RelPath() != "a\x01" {
		t.Fatalf("a (2) is %q", n.RelPath())
	}
}

func fnvPath(p string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(p))
	return h.Sum64()
}

func library(n int) []*index.Track {
	tracks := make([]*index.Track, 0, n+n/10)
	for i := range n {
		artist := fmt.Sprintf("Artist %d", i/100)
		album := fmt.Sprintf("Album %d", i/10)
		rel := fmt.Sprintf("%s/%s/%02d.flac", artist, album, i%10+1)
		tracks = append(tracks, &index.Track{
			Origin: "nas", RelPath: rel, Size: int64(1000 + i), ModTime: t0.Add(time.Duration(i) * time.Second),
			Audio: true, Tagged: true, Artists: []string{artist}, AlbumArtists: []string{artist}, Album: album,
			Title: fmt.Sprintf("Title %d", i), Genres: []string{fmt.Sprintf("Genre %d", i/10%17)},
			Year: 1950 + i/10%70, Track: i%10 + 1, Disc: 1, DiscTotal: 1,
		})
		if i%10 == 0 {
			tracks = append(tracks, file("nas", fmt.Sprintf("%s/%s/cover.jpg", artist, album), t0))
		}
	}
	return tracks
}

func inoMap(s *Snapshot) map[string]uint64 {
	m := map[string]uint64{}
	for _, p := range walk(s) {
		p = strings.TrimSuffix(p, "/")
		m[p] = s.LookupPath(p).Ino
	}
	return m
}

func TestInosStable(t *testing.T) {
	tracks := library(500)
	s1 := mustBuild(t, tracks, DefaultViews())
	in := slices.Clone(tracks)
	rand.New(rand.NewPCG(7, 7)).Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
	s2 := mustBuild(t, in, DefaultViews())
	m1, m2 := inoMap(s1), inoMap(s2)
	if len(m1) != s1.Len()-1 || len(m1) != len(m2) {
		t.Fatalf("sizes %d %d %d", len(m1), len(m2), s1.Len())
	}
	seen := map[uint64]string{1: ""}
	for p, ino := range m1 {
		if m2[p] != ino {
			t.Fatalf("%s: ino %d then %d", p, ino, m2[p])
		}
		if ino <= 1 {
			t.Fatalf("%s: ino %d", p, ino)
		}
		if q, dup := seen[ino]; dup {
			t.Fatalf("%s and %s share ino %d", p, q, ino)
		}
		seen[ino] = p
		// Fixed, process-independent hash of the virtual path.
		if want := fnvPath(p); ino != want {
			t.Fatalf("%s: ino %x, want fnv-1a %x", p, ino, want)
		}
		if n := s1.Node(ino); n == nil || s1.Path(n) != p {
			t.Fatalf("Node(%d) = %v, want %s", ino, n, p)
		}
	}
	if s1.Node(12345) != nil || s1.Node(0) != nil {
		t.Fatal("Node of an absent ino")
	}
	if s1.Node(1) != s1.Root() {
		t.Fatal("Node(1) is not the root")
	}
}

func TestAssignInosCollisions(t *testing.T) {
	paths := []string{"a", "b", "c", "d", "e", "f", "g"}
	raw := []uint64{0 /* root, ignored */, 5, 5, 0, 1, 5, 7}
	salt := func(h, k uint64) uint64 { return h + k } // weak on purpose
	want := map[string]uint64{}
	for i := range 10 {
		// Node 0 is the root; the others come in a different order each time.
		perm := rand.New(rand.NewPCG(uint64(i), 3)).Perm(len(paths) - 1)
		p := []string{paths[0]}
		r := []uint64{raw[0]}
		for _, k := range perm {
			p, r = append(p, paths[k+1]), append(r, raw[k+1])
		}
		inos := slices.Clone(r)
		byIno := assignInos(inos, func(j int) string { return p[j] }, salt)
		for j, ino := range inos[1:] {
			if _, pos, ok := byIno.find(ino, func(k int) uint64 { return inos[k] }); !ok || pos != j+1 {
				t.Fatalf("table %v disagrees with inos %v at %d", byIno, inos, j+1)
			}
		}
		got := map[string]uint64{}
		seen := map[uint64]bool{}
		for j, ino := range inos {
			if j == 0 {
				if ino != 1 {
					t.Fatalf("root ino %d", ino)
				}
				continue
			}
			if ino <= 1 || seen[ino] {
				t.Fatalf("ino %d for %s (dup or reserved)", ino, p[j])
			}
			seen[ino] = true
			got[p[j]] = ino
		}
		if i == 0 {
			want = got
			if got["b"] != 5 || got["g"] != 7 || got["c"] != 6 || got["d"] != 2 || got["e"] != 3 || got["f"] != 8 {
				t.Fatalf("the first path of a colliding group keeps its hash: %v", got)
			}
			continue
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("perm %d: %s got ino %d, want %d", i, k, got[k], v)
			}
		}
	}
}

func TestDirModTime(t *testing.T) {
	a := song("o", "x/a.flac", "A", "Al", "T1", 0, 1)
	b := song("o", "x/b.flac", "A", "Al", "T2", 0, 2)
	b.ModTime = t0.Add(time.Hour)
	c := song("o", "y/c.flac", "B", "Bl", "T3", 0, 1)
	c.ModTime = t0.Add(-time.Hour)
	s := mustBuild(t, []*index.Track{a, b, c}, DefaultViews())
	for p, want := range map[string]time.Time{
		"":                        t0.Add(time.Hour),
		"Artists":                 t0.Add(time.Hour),
		"Artists/A/Al":            t0.Add(time.Hour),
		"Artists/B":               t0.Add(-time.Hour),
		"Origins/o/y":             t0.Add(-time.Hour),
		"Artists/A/Al/01 T1.flac": t0,
	} {
		n := mustFind(t, s, p)
		if !n.ModTime().Equal(want) {
			t.Errorf("%q: ModTime %v, want %v", p, n.ModTime(), want)
		}
		if n.Dir && n.Size() != 0 {
			t.Errorf("%q: dir size %d", p, n.Size())
		}
	}
}

func TestSnapshotAccessors(t *testing.T) {
	s := mustBuild(t, library(30), DefaultViews())
	other := mustBuild(t, library(40), DefaultViews())
	artists := mustFind(t, s, "Artists")
	if got := s.Path(artists); got != "Artists" {
		t.Fatalf("Path = %q", got)
	}
	if got := s.Path(s.Root()); got != "." {
		t.Fatalf("root Path = %q", got)
	}
	if s.Lookup(artists, "Nope") != nil || s.Lookup(nil, "Artists") != nil {
		t.Fatal("Lookup of absent name")
	}
	f := mustFind(t, s, "Origins/nas/Artist 0/Album 0/01.flac")
	if s.Lookup(f, "x") != nil || s.Children(f) != nil {
		t.Fatal("a file has no children")
	}
	if p := s.Parent(f); p == nil || p.Name != "Album 0" {
		t.Fatalf("Parent = %v", p)
	}
	if s.Parent(s.Root()) != nil {
		t.Fatal("root has no parent")
	}
	// A node from another snapshot is resolved by inode number.
	foreign := other.LookupPath("Artists/Artist 0")
	if n := s.Lookup(foreign, "Album 0 (1950)"); n == nil || s.Path(n) != "Artists/Artist 0/Album 0 (1950)" {
		t.Fatalf("Lookup via foreign dir = %v", n)
	}
	if got := len(s.Children(foreign)); got != 3 {
		t.Fatalf("Children via foreign dir: %d", got)
	}
	if s.Lookup(other.LookupPath("Artists/Artist 0/Album 3 (1953)"), "x") != nil {
		t.Fatal("foreign dir absent here must give nil")
	}
	kids := s.Children(s.Root())
	if !slices.IsSortedFunc(kids, func(a, b Node) int { return strings.Compare(a.Name, b.Name) }) {
		t.Fatal("children not sorted")
	}
	if cap(kids) != len(kids) {
		t.Fatal("Children must not allow appending into the snapshot")
	}
}
