package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// mkvTestWidth is the width of the sizes mkvTestEl writes: 0 for the
// shortest that holds the size, 1 to 8 for that many bytes.
var mkvTestWidth = 0

// mkvTestID is an element ID as written: its bytes, marker included.
func mkvTestID(id uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, id)
	for len(b) > 1 && b[0] == 0 {
		b = b[1:]
	}
	return b
}

// mkvTestSize writes n as a variable-length size of width bytes (0: the
// shortest; n's all-ones value is left to mkvTestUnknown).
func mkvTestSize(n uint64, width int) []byte {
	if width == 0 {
		for width = 1; n >= 1<<(7*width)-1; width++ {
		}
	}
	b := binary.BigEndian.AppendUint64(nil, n|1<<(7*width))
	return b[8-width:]
}

// mkvTestEl builds an element of the given ID around body.
func mkvTestEl(id uint64, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return slices.Concat(mkvTestID(id), mkvTestSize(uint64(len(b)), mkvTestWidth), b)
}

// mkvTestUnknown builds an element of unknown size (a one-byte size of all
// ones).
func mkvTestUnknown(id uint64, body ...[]byte) []byte {
	return slices.Concat(mkvTestID(id), []byte{0xFF}, bytes.Join(body, nil))
}

// mkvTestUint builds an unsigned integer element of 8 bytes.
func mkvTestUint(id, v uint64) []byte {
	return mkvTestEl(id, binary.BigEndian.AppendUint64(nil, v))
}

func mkvTestStr(id uint64, s string) []byte { return mkvTestEl(id, []byte(s)) }

// mkvTestSimple builds a SimpleTag, with any nested SimpleTags after its
// string.
func mkvTestSimple(name, value string, nested ...[]byte) []byte {
	return mkvTestEl(mkvSimpleTag, mkvTestStr(mkvTagName, name), mkvTestStr(0x447A, "und"),
		mkvTestStr(mkvTagString, value), bytes.Join(nested, nil))
}

// mkvTestTag builds a Tag of the given targets (nil: no Targets element,
// as ffmpeg writes its global tags) and SimpleTags.
func mkvTestTag(targets []byte, simple ...[]byte) []byte {
	return mkvTestEl(mkvTag, targets, bytes.Join(simple, nil))
}

// mkvTestLevel is a Targets element with a TargetTypeValue and the
// TargetType that goes with it.
func mkvTestLevel(level uint64, typ string) []byte {
	return mkvTestEl(mkvTargets, mkvTestUint(mkvTargetValue, level), mkvTestStr(mkvTargetType, typ))
}

// mkvTestTags builds a Tags element, with a CRC-32 element first as ffmpeg
// writes one.
func mkvTestTags(tags ...[]byte) []byte {
	return mkvTestEl(mkvTags, mkvTestEl(0xBF, []byte{1, 2, 3, 4}), bytes.Join(tags, nil))
}

// mkvTestInfo is a Segment Info with a Title (none if title is "").
func mkvTestInfo(title string) []byte {
	b := mkvTestUint(0x2AD7B1, 1000000) // TimestampScale
	if title != "" {
		b = append(b, mkvTestStr(mkvTitle, title)...)
	}
	return mkvTestEl(mkvInfo, b, mkvTestStr(0x4D80, "Lavf"))
}

// mkvTestTracks is a Tracks element of one audio track.
func mkvTestTracks() []byte {
	entry := mkvTestEl(0xAE, mkvTestUint(0xD7, 1), mkvTestUint(0x73C5, 42), mkvTestUint(0x83, 2), mkvTestStr(0x86, "A_FLAC"))
	return mkvTestEl(mkvTracks, entry)
}

// mkvTestCluster is a Cluster of n bytes of SimpleBlock.
func mkvTestCluster(n int) []byte {
	return mkvTestEl(mkvCluster, mkvTestUint(0xE7, 0), mkvTestEl(0xA3, make([]byte, n)))
}

// mkvTestHeader is the EBML header of a Matroska file.
func mkvTestHeader(docType string) []byte {
	return mkvTestEl(mkvEBML, mkvTestUint(0x4286, 1), mkvTestUint(0x42F7, 1), mkvTestUint(0x42F2, 4),
		mkvTestUint(0x42F3, 8), mkvTestStr(0x4282, docType), mkvTestUint(0x4287, 4), mkvTestUint(0x4285, 2))
}

// mkvTestFile is a Matroska file of one Segment holding children.
func mkvTestFile(children ...[]byte) []byte {
	return slices.Concat(mkvTestHeader("matroska"), mkvTestEl(mkvSegment, children...))
}

// mkvTestSeekHead is a SeekHead listing each element (id, position
// relative to the Segment's data) of entries.
func mkvTestSeekHead(entries ...mkvSeekEntry) []byte {
	var seeks [][]byte
	for _, e := range entries {
		seeks = append(seeks, mkvTestEl(mkvSeek, mkvTestEl(mkvSeekID, mkvTestID(e.id)), mkvTestUint(mkvSeekPosition, uint64(e.pos))))
	}
	return mkvTestEl(mkvSeekHead, seeks...)
}

// mkvTestIndexed is the children of a Segment with a SeekHead first, as
// mkvmerge and ffmpeg write it: it lists every top-level child but the
// Clusters (and the Void elements).
func mkvTestIndexed(children ...[]byte) []byte {
	list := func(base int64) []mkvSeekEntry {
		var es []mkvSeekEntry
		pos := base
		for _, c := range children {
			if id, _ := mkvVint(c); id != mkvCluster && id != 0xEC {
				es = append(es, mkvSeekEntry{id: id, pos: pos})
			}
			pos += int64(len(c))
		}
		return es
	}
	// The SeekHead's size does not depend on the positions it holds.
	head := mkvTestSeekHead(list(0)...)
	return slices.Concat(mkvTestSeekHead(list(int64(len(head)))...), bytes.Join(children, nil))
}

// mkvTestFFmpeg is laid out as ffmpeg writes a file: the title in the
// Segment Info, the global tags in a Tag without Targets, the stream's in
// a Tag for its track.
func mkvTestFFmpeg() []byte {
	global := mkvTestTag(mkvTestEl(mkvTargets), mkvTestSimple("ARTIST", "Björk"), mkvTestSimple("ALBUM", "Homogenic"),
		mkvTestSimple("ALBUM_ARTIST", "Björk"), mkvTestSimple("GENRE", "Electronic"), mkvTestSimple("DATE", "1997-09-22"),
		mkvTestSimple("PART_NUMBER", "3/12"), mkvTestSimple("DISC", "1/2"), mkvTestSimple("ENCODER", "Lavf59.27.100"))
	stream := mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(0x63C5, 42)), mkvTestSimple("ENCODER", "Lavc59.37.100 flac"),
		mkvTestSimple("DURATION", "00:00:00.303000000"))
	return mkvTestFile(mkvTestIndexed(mkvTestEl(0xEC, make([]byte, 80)), mkvTestInfo("Jóga"), mkvTestTracks(),
		mkvTestTags(global, stream), mkvTestCluster(500), mkvTestCluster(300), mkvTestEl(mkvCues, make([]byte, 20))))
}

var mkvTestWant = Tags{Title: "Jóga", Artists: []string{"Björk"}, AlbumArtists: []string{"Björk"}, Album: "Homogenic",
	Genres: []string{"Electronic"}, Year: 1997, Track: 3, TrackTotal: 12, Disc: 1, DiscTotal: 2,
	Format: "matroska", Blocks: []Kind{Matroska}}

// mkvTestTitled is what a file whose only value is the title t reads as.
func mkvTestTitled(t string) Tags {
	return Tags{Title: t, Format: "matroska", Blocks: []Kind{Matroska}}
}

// mkvTestRead reads data and checks the result: the tags, and the error
// (any *FormatError where wantErr is one).
func mkvTestRead(t *testing.T, data []byte, want Tags, wantErr error) int64 {
	t.Helper()
	got, n, err := ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
	var fe *FormatError
	if _, anyFormat := wantErr.(*FormatError); anyFormat && !errors.As(err, &fe) || !anyFormat && !errors.Is(err, wantErr) {
		t.Errorf("err = %v, want %v", err, wantErr)
	}
	readersTestEqual(t, got, want)
	return n
}

func TestMatroska(t *testing.T) {
	album := func(simple ...[]byte) []byte { return mkvTestTag(mkvTestLevel(50, "ALBUM"), simple...) }
	track := func(simple ...[]byte) []byte { return mkvTestTag(mkvTestLevel(30, "TRACK"), simple...) }
	file := func(tags ...[]byte) []byte {
		return mkvTestFile(mkvTestIndexed(mkvTestInfo(""), mkvTestTracks(), mkvTestCluster(100), mkvTestTags(tags...)))
	}
	mk := func(tg Tags) Tags { tg.Format, tg.Blocks = "matroska", []Kind{Matroska}; return tg }
	tests := []struct {
		name    string
		data    []byte
		want    Tags
		wantErr error
	}{{
		name: "ffmpeg: the title in the Info, global tags without Targets",
		data: mkvTestFFmpeg(),
		want: mkvTestWant,
	}, {
		name: "album and track targets",
		data: file(album(mkvTestSimple("TITLE", "Homogenic"), mkvTestSimple("ARTIST", "Björk"), mkvTestSimple("TOTAL_PARTS", "10"),
			mkvTestSimple("DATE_RELEASED", "1997"), mkvTestSimple("GENRE", "Electronic"), mkvTestSimple("PART_NUMBER", "1")),
			track(mkvTestSimple("TITLE", "Jóga"), mkvTestSimple("ARTIST", "Björk & Guest"), mkvTestSimple("PART_NUMBER", "02"),
				mkvTestSimple("TOTAL_PARTS", "99"))),
		want: mk(Tags{Title: "Jóga", Artists: []string{"Björk & Guest"}, AlbumArtists: []string{"Björk"}, Album: "Homogenic",
			Genres: []string{"Electronic"}, Year: 1997, Track: 2, TrackTotal: 10}),
	}, {
		name: "the level from the TargetType, Targets after the SimpleTags",
		data: file(mkvTestTag(nil, mkvTestSimple("TITLE", "Album"), mkvTestEl(mkvTargets, mkvTestStr(mkvTargetType, "album"))),
			mkvTestTag(nil, mkvTestSimple("TITLE", "Track"), mkvTestEl(mkvTargets, mkvTestStr(mkvTargetType, "SONG")))),
		want: mk(Tags{Title: "Track", Album: "Album"}),
	}, {
		name: "no Targets, empty Targets, no TargetTypeValue: track level",
		data: file(mkvTestTag(nil, mkvTestSimple("TITLE", "t")), mkvTestTag(mkvTestEl(mkvTargets), mkvTestSimple("ARTIST", "a")),
			mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(0x63C5, 0)), mkvTestSimple("TRACK", "4"))),
		want: mk(Tags{Title: "t", Artists: []string{"a"}, Track: 4}),
	}, {
		name: "level-dependent names are not read at other levels",
		data: file(mkvTestTag(mkvTestLevel(70, "COLLECTION"), mkvTestSimple("TITLE", "no"), mkvTestSimple("ARTIST", "no"),
			mkvTestSimple("GENRE", "Jazz")), mkvTestTag(mkvTestLevel(60, "VOLUME"), mkvTestSimple("PART_NUMBER", "9"),
			mkvTestSimple("TOTAL_PARTS", "9"), mkvTestSimple("DISC", "2"))),
		want: mk(Tags{Genres: []string{"Jazz"}, Disc: 2}),
	}, {
		name: "tags of a chapter, an edition or an attachment are not the file's",
		data: file(mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(mkvChapterUID, 7)), mkvTestSimple("TITLE", "chapter")),
			mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(mkvEditionUID, 7)), mkvTestSimple("GENRE", "edition")),
			mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(mkvAttachUID, 7)), mkvTestSimple("TITLE", "cover")),
			mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(mkvChapterUID, 0), mkvTestUint(mkvAttachUID, 0)), mkvTestSimple("TITLE", "file"))),
		want: mkvTestTitled("file"),
	}, {
		name: "several SimpleTags of a name are several values, in every Tag and every Tags",
		data: mkvTestFile(mkvTestTags(mkvTestTag(nil, mkvTestSimple("ARTIST", "pima"), mkvTestSimple("ARTIST", "njzig"),
			mkvTestSimple("GENRE", "Rock"))), mkvTestTags(mkvTestTag(nil, mkvTestSimple("GENRE", "Jazz"), mkvTestSimple("GENRE", "rock")))),
		want: mk(Tags{Artists: []string{"pima", "njzig"}, Genres: []string{"Rock", "Jazz"}}),
	}, {
		name: "other names through the common keys, in any case",
		data: file(mkvTestTag(nil, mkvTestSimple("artist", "A feat. B"), mkvTestSimple("ARTISTS", "A"), mkvTestSimple("ARTISTS", "B"),
			mkvTestSimple("Album_Artist", "C"), mkvTestSimple("COMPILATION", "1"), mkvTestSimple("DISC", "2/3"),
			mkvTestSimple("TRACKTOTAL", "11"), mkvTestSimple("PART_NUMBER", "5"), mkvTestSimple("MusicBrainz Album Id", "no"))),
		want: mk(Tags{Artists: []string{"A", "B"}, AlbumArtists: []string{"C"}, Compilation: true, Disc: 2, DiscTotal: 3,
			Track: 5, TrackTotal: 11}),
	}, {
		name: "dates: the recording date before the release date, in any order",
		data: file(mkvTestTag(nil, mkvTestSimple("DATE_RELEASED", "2001-02-03"), mkvTestSimple("DATE_RECORDED", "1999"))),
		want: mk(Tags{Year: 1999}),
	}, {
		name: "a TITLE SimpleTag before the Info's Title",
		data: mkvTestFile(mkvTestInfo("info"), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "tag")))),
		want: mkvTestTitled("tag"),
	}, {
		name: "the Info's Title alone",
		data: mkvTestFile(mkvTestInfo("info"), mkvTestCluster(10)),
		want: mkvTestTitled("info"),
	}, {
		name: "nested SimpleTags, TagBinary, Void and unknown children are skipped",
		data: file(mkvTestTag(nil, mkvTestEl(0xEC, make([]byte, 9)), mkvTestSimple("TITLE", "t", mkvTestSimple("SORT_WITH", "no"),
			mkvTestSimple("ARTIST", "no")), mkvTestEl(mkvSimpleTag, mkvTestStr(mkvTagName, "ARTIST"), mkvTestEl(0x4485, []byte("bin"))),
			mkvTestEl(0x5555, []byte("?")), mkvTestEl(mkvSimpleTag, mkvTestStr(mkvTagString, "no name")))),
		want: mkvTestTitled("t"),
	}, {
		name: "text that is not UTF-8 is Latin-1",
		data: file(mkvTestTag(nil, mkvTestSimple("TITLE", "J\xf3ga"))),
		want: mkvTestTitled("Jóga"),
	}, {
		name: "WebM, and Void before the Segment",
		data: slices.Concat(mkvTestHeader("webm"), mkvTestEl(0xEC, make([]byte, 3)),
			mkvTestEl(mkvSegment, mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))),
		want: mkvTestTitled("t"),
	}, {
		name: "only the first Segment",
		data: slices.Concat(mkvTestFile(mkvTestInfo("first")), mkvTestEl(mkvSegment, mkvTestTags(mkvTestTag(nil, mkvTestSimple("ARTIST", "no"))))),
		want: mkvTestTitled("first"),
	}, {
		name: "Tags after Clusters, no SeekHead",
		data: mkvTestFile(mkvTestInfo(""), mkvTestCluster(100), mkvTestCluster(100), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))),
		want: mkvTestTitled("t"),
	}, {
		name: "a SeekHead pointing to a second SeekHead after the Clusters",
		data: func() []byte {
			tags := mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))
			cluster := mkvTestCluster(1000)
			second := mkvTestSeekHead(mkvSeekEntry{mkvTags, 0})
			first := mkvTestSeekHead(mkvSeekEntry{mkvSeekHead, 0})
			at := int64(len(first) + len(cluster))
			second = mkvTestSeekHead(mkvSeekEntry{mkvTags, at + int64(len(second))})
			return mkvTestFile(mkvTestSeekHead(mkvSeekEntry{mkvSeekHead, at}), cluster, second, tags)
		}(),
		want: mkvTestTitled("t"),
	}, {
		name: "a SeekHead pointing to the wrong place: the Clusters are walked",
		data: func() []byte {
			head := mkvTestSeekHead(mkvSeekEntry{mkvTags, 0})
			return mkvTestFile(head, mkvTestCluster(100), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))
		}(),
		want: mkvTestTitled("t"),
	}, {
		name: "a SeekHead pointing past the Segment",
		data: mkvTestFile(mkvTestSeekHead(mkvSeekEntry{mkvTags, 1 << 40}), mkvTestCluster(100), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))),
		want: mkvTestTitled("t"),
	}, {
		name: "a SeekHead without Tags: none after the Clusters are looked for",
		data: func() []byte {
			head := mkvTestSeekHead(mkvSeekEntry{mkvInfo, 0})
			head = mkvTestSeekHead(mkvSeekEntry{mkvInfo, int64(len(head))})
			return mkvTestFile(head, mkvTestInfo(""), mkvTestCluster(100), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))
		}(),
		want:    Tags{Format: "matroska"},
		wantErr: ErrNoTags,
	}, {
		name: "Segment, Tags, Tag: each of unknown size",
		data: slices.Concat(mkvTestHeader("matroska"), mkvTestUnknown(mkvSegment, mkvTestInfo(""),
			mkvTestUnknown(mkvTags, mkvTestTag(nil, mkvTestSimple("TITLE", "t"))), mkvTestCluster(100),
			mkvTestTags(mkvTestTag(nil, mkvTestSimple("ARTIST", "a"))))),
		want: mk(Tags{Title: "t", Artists: []string{"a"}}),
	}, {
		name: "a Cluster of unknown size ends the walk without a SeekHead",
		data: slices.Concat(mkvTestHeader("matroska"), mkvTestUnknown(mkvSegment, mkvTestInfo("info"),
			mkvTestUnknown(mkvCluster, mkvTestEl(0xA3, make([]byte, 100))), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))),
		want: mkvTestTitled("info"),
	}, {
		name: "a Cluster of unknown size is passed through the SeekHead",
		data: func() []byte {
			cluster := mkvTestUnknown(mkvCluster, mkvTestEl(0xA3, make([]byte, 100)))
			head := mkvTestSeekHead(mkvSeekEntry{mkvTags, 0})
			head = mkvTestSeekHead(mkvSeekEntry{mkvTags, int64(len(head) + len(cluster))})
			return slices.Concat(mkvTestHeader("matroska"), mkvTestUnknown(mkvSegment, head, cluster,
				mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))))
		}(),
		want: mkvTestTitled("t"),
	}, {
		name: "a value over the limit is skipped unread",
		data: file(mkvTestTag(nil, mkvTestSimple("ARTIST", string(make([]byte, maxFieldLen+1))), mkvTestSimple("TITLE", "t"))),
		want: mkvTestTitled("t"),
	}, {
		name: "a broken Tag keeps the values before it",
		data: file(mkvTestTag(nil, mkvTestSimple("TITLE", "t")), mkvTestTag(nil, []byte{0x67, 0xC8, 0x00})),
		want: mkvTestTitled("t"),
	}, {
		name:    "a TagString running past its SimpleTag",
		data:    file(mkvTestTag(nil, mkvTestEl(mkvSimpleTag, mkvTestStr(mkvTagName, "TITLE"), []byte{0x44, 0x87, 0x90, 'x'}))),
		want:    Tags{Format: "matroska"},
		wantErr: &FormatError{},
	}, {
		name:    "a child of unknown size in Tags",
		data:    file(mkvTestUnknown(mkvTag, mkvTestSimple("TITLE", "t"))),
		want:    Tags{Format: "matroska"},
		wantErr: &FormatError{},
	}, {
		name:    "no Tags",
		data:    mkvTestFile(mkvTestIndexed(mkvTestInfo(""), mkvTestTracks(), mkvTestCluster(100))),
		want:    Tags{Format: "matroska"},
		wantErr: ErrNoTags,
	}, {
		name:    "no Segment",
		data:    slices.Concat(mkvTestHeader("matroska"), mkvTestEl(0xEC, make([]byte, 10))),
		want:    Tags{Format: "matroska"},
		wantErr: ErrNoTags,
	}, {
		name:    "the EBML magic and nothing after it",
		data:    []byte{0x1A, 0x45, 0xDF, 0xA3},
		want:    Tags{Format: "matroska"},
		wantErr: &FormatError{},
	}, {
		name:    "a size over 8 bytes long",
		data:    slices.Concat(mkvTestHeader("matroska"), []byte{0x18, 0x53, 0x80, 0x67, 0x00, 1, 2, 3, 4, 5, 6, 7, 8}),
		want:    Tags{Format: "matroska"},
		wantErr: &FormatError{},
	}, {
		name:    "an EBML header of unknown size",
		data:    mkvTestUnknown(mkvEBML, mkvTestEl(mkvSegment, mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))),
		want:    Tags{Format: "matroska"},
		wantErr: &FormatError{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mkvTestRead(t, tt.data, tt.want, tt.wantErr)
		})
	}
}

// Every width of size reads the same: the shortest for each element (1 to
// 3 bytes here), or 2 to 8 bytes for all.
func TestMatroskaSizeWidths(t *testing.T) {
	defer func() { mkvTestWidth = 0 }()
	for _, w := range []int{0, 2, 3, 4, 5, 6, 7, 8} {
		mkvTestWidth = w
		mkvTestRead(t, mkvTestFFmpeg(), mkvTestWant, nil)
	}
	// 2^56-2 is the largest known size of 8 bytes; 2^56-1, all ones, is
	// the unknown size.
	if v, n := mkvVint(mkvTestSize(1<<56-2, 8)); v != 1<<56|(1<<56-2) || n != 8 {
		t.Errorf("mkvVint = %#x, %d", v, n)
	}
}

// mkvTestClusterHead is the header of a Cluster whose body (a SimpleBlock
// of zeros) is gap bytes long, the header included.
func mkvTestClusterHead(gap int64) []byte {
	block := slices.Concat([]byte{0xA3}, mkvTestSize(uint64(gap-4-8-1-8), 8))
	return slices.Concat(mkvTestID(mkvCluster), mkvTestSize(uint64(gap-4-8), 8), block)
}

// Tags after a large Cluster are found through the SeekHead: of the
// Cluster nothing but its header is read (it is in the first window), and
// nothing of an Attachments element (cover art) after it either.
func TestMatroskaSeekHeadSkipsClusters(t *testing.T) {
	tags := mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))
	for _, gap := range []int64{10 << 20, 5 << 30} {
		attachments := mkvTestEl(mkvAttachments, mkvTestEl(0x61A7, mkvTestStr(0x466E, "cover.jpg"), mkvTestEl(0x465C, make([]byte, 3<<20))))
		info, tracks := mkvTestInfo("info"), mkvTestTracks()
		cluster := mkvTestClusterHead(gap)
		var head []byte
		for range 2 { // the SeekHead's size does not depend on the positions it holds
			base := int64(len(head))
			head = mkvTestSeekHead(mkvSeekEntry{mkvInfo, base}, mkvSeekEntry{mkvTracks, base + int64(len(info))},
				mkvSeekEntry{mkvAttachments, base + int64(len(info)+len(tracks)) + gap},
				mkvSeekEntry{mkvTags, base + int64(len(info)+len(tracks)+len(attachments)) + gap})
		}
		seg := slices.Concat(mkvTestID(mkvSegment), mkvTestSize(uint64(len(head)+len(info)+len(tracks)+len(attachments)+len(tags))+uint64(gap), 8))
		f := &sparseFile{head: slices.Concat(mkvTestHeader("matroska"), seg, head, info, tracks, cluster),
			gap: gap - int64(len(cluster)), tail: slices.Concat(attachments, tags)}
		got, n, err := ReadLimit(f, f.size(), DefaultLimit)
		if err != nil {
			t.Fatal(err)
		}
		readersTestEqual(t, got, mkvTestTitled("t"))
		// The first window, then the Tags at the end of the file.
		if n > window+int64(len(tags)) {
			t.Errorf("read %d bytes", n)
		}
		t.Logf("cluster of %d bytes: read %d bytes of a %d-byte file", gap, n, f.size())
	}
}

// Without a SeekHead the Clusters are walked, reading their headers alone.
func TestMatroskaWalkClusters(t *testing.T) {
	const clusters, size = 100, 100 << 10
	var walk []byte
	for range clusters {
		walk = append(walk, mkvTestCluster(size)...)
	}
	tags := mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))
	data := mkvTestFile(mkvTestInfo(""), walk, tags)
	n := mkvTestRead(t, data, mkvTestTitled("t"), nil)
	if n > 2*window+clusters*mkvHeader {
		t.Errorf("read %d bytes", n)
	}
	t.Logf("read %d bytes of a %d-byte file", n, len(data))
}

// A million tiny elements cost no more than mkvMaxElements of them.
func TestMatroskaManyElements(t *testing.T) {
	void := bytes.Repeat([]byte{0xEC, 0x80}, 1_000_000)
	tags := mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"top level", mkvTestFile(void, tags)},
		{"in Tags", mkvTestFile(mkvTestEl(mkvTags, void, mkvTestTag(nil, mkvTestSimple("TITLE", "t"))))},
		{"in a Tag", mkvTestFile(mkvTestEl(mkvTags, mkvTestTag(nil, void, mkvTestSimple("TITLE", "t"))))},
		{"SeekHead entries", mkvTestFile(mkvTestEl(mkvSeekHead, bytes.Repeat(mkvTestEl(mkvSeek, mkvTestEl(mkvSeekID, mkvTestID(mkvTags)),
			mkvTestUint(mkvSeekPosition, 0)), 100_000)), tags)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := ReadLimit(bytes.NewReader(tt.data), int64(len(tt.data)), DefaultLimit)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("err = %v, want a *FormatError", err)
			}
			if n > mkvMaxElements*mkvHeader+2*window {
				t.Errorf("read %d bytes", n)
			}
		})
	}
}

// A file cut anywhere is broken or untagged, never a panic or another
// error.
func TestMatroskaTruncated(t *testing.T) {
	for _, data := range [][]byte{
		mkvTestFFmpeg(),
		slices.Concat(mkvTestHeader("matroska"), mkvTestUnknown(mkvSegment, mkvTestInfo("i"),
			mkvTestUnknown(mkvTags, mkvTestTag(mkvTestLevel(50, "ALBUM"), mkvTestSimple("TITLE", "a"))), mkvTestCluster(10))),
		func() []byte {
			defer func() { mkvTestWidth = 0 }()
			mkvTestWidth = 8
			return mkvTestFile(mkvTestIndexed(mkvTestInfo(""), mkvTestCluster(20), mkvTestTags(mkvTestTag(nil, mkvTestSimple("TITLE", "t")))))
		}(),
	} {
		readersTestPrefixes(t, data)
	}
}

// A file ffmpeg wrote (the tags between the header and the Clusters, the
// title in the Segment Info), one it wrote as a live stream (a Segment of
// unknown size) and one with a cover attached, which is not read.
func TestMatroskaFFmpeg(t *testing.T) {
	meta := []string{"-metadata", "title=T", "-metadata", "artist=A", "-metadata", "album=Al", "-metadata", "album_artist=AA",
		"-metadata", "genre=G", "-metadata", "date=1999", "-metadata", "track=3"}
	want := Tags{Title: "T", Artists: []string{"A"}, AlbumArtists: []string{"AA"}, Album: "Al", Genres: []string{"G"},
		Year: 1999, Track: 3, Format: "matroska", Blocks: []Kind{Matroska}}
	t.Run("file", func(t *testing.T) {
		readersTestEqual(t, readersTestRead(t, readersTestFFmpeg(t, "mka", meta...)), want)
	})
	t.Run("live", func(t *testing.T) {
		data := readersTestFFmpeg(t, "mka", append([]string{"-c:a", "flac", "-live", "1"}, meta...)...)
		readersTestEqual(t, readersTestRead(t, data), want)
	})
	t.Run("cover", func(t *testing.T) {
		cover := filepath.Join(t.TempDir(), "cover.jpg")
		if err := os.WriteFile(cover, bytes.Repeat([]byte("\xff\xd8\xff\xe0JFIF"), 200_000), 0o644); err != nil {
			t.Fatal(err)
		}
		data := readersTestFFmpeg(t, "mka", append([]string{"-attach", cover, "-metadata:s:t", "mimetype=image/jpeg"}, meta...)...)
		tags, n, err := ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
		if err != nil {
			t.Fatal(err)
		}
		readersTestEqual(t, tags, want)
		if n > 2*window {
			t.Errorf("read %d bytes of a %d-byte file", n, len(data))
		}
		t.Logf("read %d bytes of a %d-byte file", n, len(data))
	})
}

func FuzzMatroska(f *testing.F) {
	readersTestFuzz(f, mkvTestFFmpeg(),
		mkvTestFile(mkvTestIndexed(mkvTestInfo("i"), mkvTestCluster(10), mkvTestTags(
			mkvTestTag(mkvTestLevel(50, "ALBUM"), mkvTestSimple("TITLE", "a"), mkvTestSimple("TOTAL_PARTS", "2")),
			mkvTestTag(mkvTestEl(mkvTargets, mkvTestUint(mkvChapterUID, 1)), mkvTestSimple("TITLE", "c")),
			mkvTestTag(nil, mkvTestSimple("ARTIST", "x"), mkvTestSimple("ARTIST", "y", mkvTestSimple("SORT_WITH", "z")))))),
		slices.Concat(mkvTestHeader("webm"), mkvTestUnknown(mkvSegment, mkvTestUnknown(mkvTags,
			mkvTestTag(nil, mkvTestSimple("GENRE", "g"))), mkvTestUnknown(mkvCluster, make([]byte, 8)))))
}
