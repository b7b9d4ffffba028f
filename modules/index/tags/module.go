package tags

import "bytes"

// moduleTypes are the tracker formats read.go recognises, in the order it
// tests them, with where each keeps its title; a ProTracker MOD, told by
// its signature at 1080, is the last.
var moduleTypes = [...]struct {
	format           string
	magic            string
	magicAt, titleAt int64
	titleLen         int
}{
	{"it", "IMPM", 0, 4, 26},
	{"xm", "Extended Module: ", 0, 17, 20},
	{"s3m", "SCRM", 44, 0, 28},
	{"mod", "", 0, 0, 20},
}

// readModule reads the title of a tracker module: NUL- or space-padded
// Latin-1 at a fixed place. Modules carry no artist.
func (f *file) readModule(off int64) {
	for _, m := range moduleTypes {
		if !f.s.has(off+m.magicAt, m.magic) {
			continue
		}
		f.format = m.format
		b, err := f.s.full(off+m.titleAt, m.titleLen)
		if err != nil {
			f.fail(malformed(m.format, off, "title: %w", err))
			return
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
		blk := Block{Kind: Module}
		blk.Add(Title, latin1(b))
		f.add(blk)
		return
	}
}
