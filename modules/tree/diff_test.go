package tree

import (
	"slices"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/index"
)

func TestDiff(t *testing.T) {
	a := song("o", "x/a.flac", "A", "Al", "T1", 0, 1)
	b := song("o", "x/b.flac", "A", "Al", "T2", 0, 2)
	c := song("o", "y/c.flac", "B", "Bl", "T3", 0, 1)
	old := mustBuild(t, []*index.Track{a, b, c}, DefaultViews())

	if d, f := Diff(nil, old); d != nil || f != nil {
		t.Fatalf("Diff(nil, s) = %v, %v", d, f)
	}
	if d, f := Diff(old, mustBuild(t, []*index.Track{c, b, a}, DefaultViews())); d != nil || f != nil {
		t.Fatalf("Diff of equal snapshots = %v, %v", d, f)
	}
	// A rescan makes new records; equal ones change nothing.
	a1, b1, c1 := *a, *b, *c
	if d, f := Diff(old, mustBuild(t, []*index.Track{&a1, &b1, &c1}, DefaultViews())); d != nil || f != nil {
		t.Fatalf("Diff of snapshots of equal records = %v, %v", d, f)
	}

	// b changes size, c is removed, d is added to A's album.
	b2 := *b
	b2.Size = 999
	d := song("o", "x/d.flac", "A", "Al", "T4", 0, 4)
	d.ModTime = t0.Add(time.Minute)
	nu := mustBuild(t, []*index.Track{a, &b2, d}, DefaultViews())
	dirs, files := Diff(old, nu)

	got := map[string]DirChange{}
	for _, dc := range dirs {
		n := old.Node(dc.Ino)
		if n == nil {
			t.Fatalf("DirChange for unknown ino %d", dc.Ino)
		}
		got[old.Path(n)] = dc
	}
	want := map[string][2][]string{
		"Artists":                   {{"B"}, nil},
		"Artists/A/Al":              {nil, {"04 T4.flac"}},
		"Artists/B":                 {{"Bl"}, nil}, // gone: its children are reported removed
		"Artists/B/Bl":              {{"01 T3.flac"}, nil},
		"Albums":                    {{"Bl - B"}, nil},
		"Albums/Al - A":             {nil, {"04 T4.flac"}},
		"Albums/Bl - B":             {{"01 T3.flac"}, nil},
		"Genres/Jazz":               {{"B"}, nil},
		"Genres/Jazz/A/Al":          {nil, {"04 T4.flac"}},
		"Genres/Jazz/B":             {{"Bl"}, nil},
		"Genres/Jazz/B/Bl":          {{"01 T3.flac"}, nil},
		"Years/Unknown Year":        {{"B - Bl"}, nil},
		"Years/Unknown Year/A - Al": {nil, {"04 T4.flac"}},
		"Years/Unknown Year/B - Bl": {{"01 T3.flac"}, nil},
		"Origins/o":                 {{"y"}, nil},
		"Origins/o/x":               {nil, {"d.flac"}},
		"Origins/o/y":               {{"c.flac"}, nil},
	}
	for p, w := range want {
		dc, ok := got[p]
		if !ok {
			t.Errorf("no change reported for %s", p)
			continue
		}
		if !slices.Equal(dc.Removed, w[0]) || !slices.Equal(dc.Added, w[1]) {
			t.Errorf("%s: removed %q added %q, want %q %q", p, dc.Removed, dc.Added, w[0], w[1])
		}
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			t.Errorf("unexpected change for %s: %+v", p, got[p])
		}
	}

	var changed []string
	for _, ino := range files {
		n := nu.Node(ino)
		if n == nil || n.Dir {
			t.Fatalf("file change for ino %d: %v", ino, n)
		}
		changed = append(changed, nu.Path(n))
	}
	slices.Sort(changed)
	wantFiles := []string{
		"Albums/Al - A/02 T2.flac",
		"Artists/A/Al/02 T2.flac",
		"Genres/Jazz/A/Al/02 T2.flac",
		"Origins/o/x/b.flac",
		"Years/Unknown Year/A - Al/02 T2.flac",
	}
	if !slices.Equal(changed, wantFiles) {
		t.Fatalf("changed files %q", changed)
	}
}

func TestDiffKindChange(t *testing.T) {
	// Origins/o/n is a file, then a directory: the entry is replaced.
	old := mustBuild(t, []*index.Track{file("o", "n", t0)}, nil)
	nu := mustBuild(t, []*index.Track{file("o", "n/x", t0)}, nil)
	dirs, files := Diff(old, nu)
	if len(files) != 0 {
		t.Fatalf("files %v", files)
	}
	if len(dirs) != 1 || old.Path(old.Node(dirs[0].Ino)) != "Origins/o" ||
		!slices.Equal(dirs[0].Removed, []string{"n"}) || !slices.Equal(dirs[0].Added, []string{"n"}) {
		t.Fatalf("dirs %+v", dirs)
	}
}

func TestDiffRenamedBySuffix(t *testing.T) {
	// A new track that sorts first takes the name; the old holder moves to " (2)".
	a := song("o", "b/1.flac", "A", "Al", "T", 0, 1)
	old := mustBuild(t, []*index.Track{a}, []View{{Name: "V", Template: "{title}.{ext}"}})
	nu := mustBuild(t, []*index.Track{a, song("o", "a/1.flac", "A", "Al", "T", 0, 1)}, []View{{Name: "V", Template: "{title}.{ext}"}})
	dirs, files := Diff(old, nu)
	var v *DirChange
	for i := range dirs {
		if old.Path(old.Node(dirs[i].Ino)) == "V" {
			v = &dirs[i]
		}
	}
	if v == nil || !slices.Equal(v.Added, []string{"T (2).flac"}) || v.Removed != nil {
		t.Fatalf("V: %+v", v)
	}
	// T.flac now points at another origin file: its content changed.
	n := nu.LookupPath("V/T.flac")
	if !slices.Contains(files, n.Ino) {
		t.Fatalf("files %v lack V/T.flac", files)
	}
}
