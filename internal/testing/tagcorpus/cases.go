package tagcorpus

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

// enc are ffmpeg's output options per encoding. No encoder writes tags of
// its own (-map_metadata -1, no ID3 from the MP3 muxer): mutagen writes
// them, or -metadata where a case says.
var enc = map[string][]string{
	"mp3":  {"-c:a", "libmp3lame", "-b:a", "64k", "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3"},
	"flac": {"-c:a", "flac", "-f", "flac"},
	"ogg":  {"-c:a", "libvorbis", "-f", "ogg"},
	"opus": {"-c:a", "libopus", "-b:a", "32k", "-f", "opus"},
	"spx":  {"-ac", "1", "-ar", "16000", "-c:a", "libspeex", "-f", "spx"},
	"oga":  {"-c:a", "flac", "-f", "ogg"},
	"aac":  {"-c:a", "aac", "-b:a", "64k", "-f", "ipod"},
	"alac": {"-c:a", "alac", "-f", "ipod"},
	"wma":  {"-c:a", "wmav2", "-b:a", "64k", "-f", "asf"},
	"wav":  {"-c:a", "pcm_s16le", "-f", "wav"},
	"aiff": {"-c:a", "pcm_s16be", "-f", "aiff"},
	"aifc": {"-c:a", "pcm_s16le", "-f", "aiff"}, // ffmpeg writes little-endian PCM as AIFC ("sowt")
	"wv":   {"-c:a", "wavpack", "-f", "wv"},
	"tta":  {"-c:a", "tta", "-f", "tta"},
	"mka":  {"-c:a", "flac", "-f", "matroska"},
}

func ff(e string, ops ...op) recipe { return recipe{ffmpeg: enc[e], ops: ops} }

// ffMeta is ff with ffmpeg's own -metadata: the muxer writes the tags.
func ffMeta(e string, w Expect, ops ...op) recipe {
	return recipe{ffmpeg: append(append([]string(nil), enc[e]...), ffmpegMeta(w)...), ops: ops}
}

func goBuilt(gen func() []byte, ops ...op) recipe { return recipe{gen: gen, ops: ops} }

// mp3Audio is Go-made MPEG audio (silent, decodable) for the hand-built
// ID3 tags to sit in front of.
func mp3Audio(seed int64) []byte {
	return audiogen.MP3(audiogen.Tags{}, audiogen.MP3Options{Seconds: 0.3, Seed: seed})
}

// goMP3 is an MP3 file: tag, then audio, then tail (an ID3v1 tag, say).
func goMP3(seed int64, tag, tail []byte) func() []byte {
	return func() []byte {
		b := append(append([]byte(nil), tag...), mp3Audio(seed)...)
		return append(b, tail...)
	}
}

// goFrames are w's text frames for ID3v2.ver in ISO-8859-1.
func goFrames(ver byte, w Expect) []id3Frame { return goFramesIn(ver, w, latin1Body) }

// goFramesIn are w's text frames for ID3v2.ver, their bodies encoded by
// body.
func goFramesIn(ver byte, w Expect, body func(...string) []byte) []id3Frame {
	date := "TDRC"
	if ver == 3 {
		date = "TYER"
	}
	var fs []id3Frame
	for _, p := range kvs("TIT2", w.Title, "TPE1", w.Artists, "TPE2", w.AlbumArtists, "TALB", w.Album,
		"TCON", w.Genres, date, year(w), "TRCK", ofTotal(w.Track, w.TrackTotal), "TPOS", ofTotal(w.Disc, w.DiscTotal)) {
		fs = append(fs, textFrame(p.k, body(p.v...)))
	}
	return fs
}

// replace returns fs with the frame id replaced by nf (dropped when nf
// has no id) and extra frames inserted after it.
func replace(fs []id3Frame, id string, nf id3Frame, extra ...id3Frame) []id3Frame {
	var out []id3Frame
	for _, f := range fs {
		if f.id != id {
			out = append(out, f)
			continue
		}
		if nf.id != "" {
			out = append(out, nf)
		}
		out = append(out, extra...)
	}
	return out
}

func list(vs ...string) []string { return vs }

// recipes lists every case of the corpus.
func recipes() []recipe {
	var rs []recipe
	rs = append(rs, formatCases()...)
	rs = append(rs, brokenCases()...)
	rs = append(rs, mergeCases()...)
	rs = append(rs, multiCases()...)
	rs = append(rs, genreCases()...)
	rs = append(rs, compilationCases()...)
	rs = append(rs, dateCases()...)
	rs = append(rs, numberCases()...)
	return rs
}

// caseList collects recipes in order.
type caseList []recipe

func (l *caseList) add(rel, format string, want Expect, r recipe) {
	r.Case = Case{Name: strings.TrimSuffix(rel, path.Ext(rel)), RelPath: rel, Format: format, Want: want}
	*l = append(*l, r)
}

// Part 1: every format, fully tagged, as one album.
func formatCases() []recipe {
	var l caseList
	track := 0
	w := func(title string) Expect {
		track++
		return Expect{Title: title, Artists: list("Format Ensemble"), AlbumArtists: list("Åsa Formats"),
			Album: "Every Format", Genres: list("Rock"), Year: 1998, Track: track, TrackTotal: 40, Disc: 1, DiscTotal: 2}
	}
	legacy := func(w Expect) audiogen.Tags {
		return audiogen.Tags{Title: w.Title, Artist: first(w.Artists), AlbumArtist: first(w.AlbumArtists), Album: w.Album,
			Genre: first(w.Genres), Year: w.Year, Track: w.Track, TrackTotal: w.TrackTotal, Disc: w.Disc, DiscTotal: w.DiscTotal}
	}

	x := w("MP3 with ID3v2.3")
	l.add("formats/mp3-id3v23.mp3", "mp3", x, ff("mp3", id3Op("mp3", 3, id3Frames(x)...)))
	x = w("MP3 with ID3v2.4")
	l.add("formats/mp3-id3v24.mp3", "mp3", x, ff("mp3", id3Op("mp3", 4, id3Frames(x)...)))
	x = w("MP3 with ID3v2.2")
	x22 := x
	l.add("formats/mp3-id3v22.mp3", "mp3", x, goBuilt(func() []byte {
		return audiogen.MP3(legacy(x22), audiogen.MP3Options{Seconds: 0.3, ID3v2: 2, Seed: 22})
	}))
	x = w("MP3 with ID3v1 only")
	x.AlbumArtists, x.TrackTotal, x.Disc, x.DiscTotal = nil, 0, 0, 0 // ID3v1 has no field for them
	xv1 := x
	l.add("formats/mp3-id3v1.mp3", "mp3", x, goBuilt(func() []byte {
		return audiogen.MP3(legacy(xv1), audiogen.MP3Options{Seconds: 0.3, ID3v1: true, Seed: 1})
	}))
	x = w("MP3 with APEv2 only")
	l.add("formats/mp3-apev2.mp3", "mp3", x, ff("mp3", apeOp(apeItems(x)...)))
	x = w("MP3 with ID3v2, APEv2 and ID3v1")
	o := id3Op("mp3", 4, id3Frames(x)...)
	o.V1 = 2
	l.add("formats/mp3-id3v2-apev2-id3v1.mp3", "mp3", x, ff("mp3", o, apeOp(apeItems(x)...)))

	x = w("FLAC")
	l.add("formats/flac.flac", "flac", x, ff("flac", vorbisOp(vorbisItems(x)...)))
	x = w("FLAC behind an empty ID3v2 tag")
	r := ff("flac", vorbisOp(vorbisItems(x)...))
	r.post = prepend(id3Tag(3, 0)) // a header and padding, no frame
	l.add("formats/flac-empty-id3v2.flac", "flac", x, r)
	x = w("Ogg Vorbis")
	l.add("formats/ogg-vorbis.ogg", "ogg-vorbis", x, ff("ogg", vorbisOp(vorbisItems(x)...)))
	x = w("Ogg Opus")
	l.add("formats/opus.opus", "ogg-opus", x, ff("opus", vorbisOp(vorbisItems(x)...)))
	x = w("Ogg Speex")
	l.add("formats/speex.spx", "ogg-speex", x, ff("spx", vorbisOp(vorbisItems(x)...)))
	x = w("Ogg FLAC")
	l.add("formats/ogg-flac.oga", "ogg-flac", x, ff("oga", vorbisOp(vorbisItems(x)...)))
	x = w("M4A AAC")
	l.add("formats/m4a-aac.m4a", "m4a-aac", x, ff("aac", mp4Op(mp4Items(x)...)))
	x = w("M4A ALAC")
	l.add("formats/m4a-alac.m4a", "m4a-alac", x, ff("alac", mp4Op(mp4Items(x)...)))
	x = w("WMA")
	x.TrackTotal = 0 // ASF has no track total
	l.add("formats/wma.wma", "wma", x, ff("wma", asfOp(asfItems(x)...)))

	x = w("WAV with RIFF INFO")
	x.AlbumArtists, x.Disc, x.DiscTotal = nil, 0, 0 // INFO has no field for them (ffmpeg writes the track as IPRT)
	l.add("formats/wav-info.wav", "wav", x, ffMeta("wav", x))
	x = w("WAV with RIFF INFO, track in ITRK")
	x.AlbumArtists, x.Disc, x.DiscTotal = nil, 0, 0
	r = ffMeta("wav", x)
	r.post = func(b []byte) ([]byte, error) { // ITRK, as other taggers write the track, for ffmpeg's IPRT
		if bytes.Count(b, []byte("IPRT")) != 1 {
			return nil, errors.New("no single IPRT")
		}
		return bytes.Replace(b, []byte("IPRT"), []byte("ITRK"), 1), nil
	}
	l.add("formats/wav-info-itrk.wav", "wav", x, r)
	x = w("WAV with an ID3 chunk")
	l.add("formats/wav-id3.wav", "wav", x, ff("wav", id3Op("wave", 4, id3Frames(x)...)))
	x = w("WAV with RIFF INFO and an ID3 chunk")
	info := x
	info.AlbumArtists, info.Disc, info.DiscTotal = nil, 0, 0
	r = ffMeta("wav", info, id3Op("wave", 4, id3Frames(x)...))
	r.post = renameChunk("id3 ", "ID3 ") // mutagen writes "id3 ", other taggers "ID3 "
	l.add("formats/wav-info-id3.wav", "wav", x, r)
	x = w("AIFF with an ID3 chunk")
	l.add("formats/aiff-id3.aiff", "aiff", x, ff("aiff", id3Op("aiff", 4, id3Frames(x)...)))
	x = w("AIFC with an ID3 chunk")
	l.add("formats/aifc-id3.aifc", "aifc", x, ff("aifc", id3Op("aiff", 3, id3Frames(x)...)))
	x = w("DSF")
	l.add("formats/dsf.dsf", "dsf", x, goBuilt(dsf, id3Op("dsf", 4, id3Frames(x)...)))
	x = w("DSDIFF")
	l.add("formats/dff.dff", "dff", x, goBuilt(dff, id3Op("dff", 4, id3Frames(x)...)))

	x = w("Monkey's Audio")
	l.add("formats/monkeys-audio.ape", "ape", x, goBuilt(monkeysAudio, apeOp(apeItems(x)...)))
	x = w("WavPack")
	l.add("formats/wavpack.wv", "wavpack", x, ff("wv", apeOp(apeItems(x)...)))
	x = w("Musepack")
	l.add("formats/musepack.mpc", "musepack", x, recipe{pipe: []string{"mpcenc", "--silent", "--overwrite", "-"}, ops: []op{apeOp(apeItems(x)...)}})
	x = w("TTA with APEv2")
	l.add("formats/tta-apev2.tta", "tta", x, ff("tta", apeOp(apeItems(x)...)))
	x = w("TTA with ID3v2")
	l.add("formats/tta-id3v2.tta", "tta", x, ff("tta", id3Op("mp3", 4, id3Frames(x)...)))
	x = w("Matroska audio")
	l.add("formats/matroska.mka", "mka", x, ffMeta("mka", x))

	// Tracker modules carry a title and nothing else; MIDI files no tags.
	l.add("formats/protracker.mod", "mod", Expect{Title: "Corpus MOD Title"}, goBuilt(func() []byte { return protrackerMOD("Corpus MOD Title") }))
	l.add("formats/fasttracker.xm", "xm", Expect{Title: "Corpus XM Title"}, goBuilt(func() []byte { return fastTrackerXM("Corpus XM Title") }))
	l.add("formats/screamtracker.s3m", "s3m", Expect{Title: "Corpus S3M Title"}, goBuilt(func() []byte { return screamTrackerS3M("Corpus S3M Title") }))
	l.add("formats/impulsetracker.it", "it", Expect{Title: "Corpus IT Title"}, goBuilt(func() []byte { return impulseTrackerIT("Corpus IT Title") }))
	l.add("formats/midi.mid", "midi", Expect{}, goBuilt(midi))
	return l
}

// renameChunk returns a post step that renames the first top-level RIFF
// chunk called from.
func renameChunk(from, to string) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) {
		for off := 12; off+8 <= len(b); {
			if string(b[off:off+4]) == from {
				copy(b[off:], to)
				return b, nil
			}
			off += 8 + int(le.Uint32(b[off+4:])) + int(le.Uint32(b[off+4:]))%2
		}
		return nil, fmt.Errorf("no %q chunk", from)
	}
}

// Part 2: broken ID3v2 tags (Go-built), a broken MP4 cover and an ID3v1
// tag in Latin-1. Each keeps everything but what is broken.
func brokenCases() []recipe {
	var l caseList
	track := 0
	w := func(title string) Expect {
		track++
		return Expect{Title: title, Artists: list("Broken Frames"), AlbumArtists: list("Broken Frames"),
			Album: "Broken Tags", Genres: list("Noise"), Year: 2003, Track: track, TrackTotal: 12, Disc: 1, DiscTotal: 1}
	}
	seed := int64(100)
	mp3 := func(rel string, x Expect, tag []byte) {
		seed++
		l.add(rel, "mp3", x, goBuilt(goMP3(seed, tag, nil)))
	}

	x := w("UTF-16 Odd Length")
	// A one-byte terminator after the UTF-16 text: an odd byte count.
	odd := append(utf16Body(x.Title), 0)
	mp3("id3-broken/utf16-odd-length.mp3", x, id3Tag(3, 0, replace(goFrames(3, x), "TIT2", textFrame("TIT2", odd))...))

	x = w("Zero-Size Frames")
	fs := replace(goFrames(3, x), "TIT2", textFrame("TIT2", latin1Body(x.Title)), id3Frame{id: "TPE3"}, id3Frame{id: "TXXX"})
	mp3("id3-broken/zero-size-frame.mp3", x, id3Tag(3, 0, fs...))

	x = w("Compressed in ID3v2.3")
	fs = replace(goFrames(3, x), "TIT2", compressedV23("TIT2", utf16Body(x.Title)))
	fs = replace(fs, "TALB", compressedV23("TALB", latin1Body(x.Album)))
	mp3("id3-broken/zlib-v23.mp3", x, id3Tag(3, 0, fs...))

	x = w("Compressed in ID3v2.4")
	fs = replace(goFrames(4, x), "TIT2", compressedV24("TIT2", utf8Body(x.Title)))
	fs = replace(fs, "TPE1", compressedV24("TPE1", latin1Body(x.Artists...)))
	mp3("id3-broken/zlib-v24.mp3", x, id3Tag(4, 0, fs...))

	// Unsynchronisation matters where the text has 0xFF bytes: every
	// UTF-16LE byte-order mark (FF FE) and "ÿ" (FF 00) do.
	x = w("Unsynchronisation ÿ Tag")
	mp3("id3-broken/unsync-v23-tag.mp3", x, id3Tag(3, id3Unsync, goFramesIn(3, x, utf16Body)...))

	x = w("Unsynchronisation ÿ Frame")
	fs = replace(goFrames(4, x), "TIT2", unsyncV24("TIT2", utf16Body(x.Title)))
	mp3("id3-broken/unsync-v24-frame.mp3", x, id3Tag(4, 0, fs...))

	x = w("UTF-16 Without BOM")
	// Little endian, as Windows taggers write it.
	fs = replace(goFrames(3, x), "TIT2", textFrame("TIT2", append([]byte{1}, utf16LE(x.Title)...)))
	mp3("id3-broken/utf16-no-bom.mp3", x, id3Tag(3, 0, fs...))

	x = w("Bad Encoding Byte")
	fs = replace(goFrames(3, x), "TALB", textFrame("TALB", append([]byte{7}, x.Album...)))
	x.Album = "" // that frame is lost, the rest kept
	mp3("id3-broken/bad-encoding-byte.mp3", x, id3Tag(3, 0, fs...))

	x = w(strings.TrimSpace(strings.Repeat("iTunes Wrote Plain Frame Sizes ", 5)))
	comm := append([]byte{0}, "eng"...)
	comm = append(comm, 0)
	comm = append(comm, strings.Repeat("a comment longer than 127 bytes; ", 10)...)
	fs = replace(goFrames(4, x), "TIT2", textFrame("TIT2", latin1Body(x.Title)), textFrame("COMM", comm))
	for i := range fs {
		fs[i].plainSize = true
	}
	mp3("id3-broken/v24-itunes-plain-sizes.mp3", x, id3Tag(4, 0, fs...))

	x = Expect{Title: "Café Olé", Artists: list("Beyoncé Élan"), Album: "Été Indien", Genres: list("Pop"), Year: 1998, Track: 7}
	seed++
	l.add("id3-broken/id3v1-latin1.mp3", "mp3", x, goBuilt(goMP3(seed, nil, id3v1(x.Title, x.Artists[0], x.Album, "1998", 7, 13))))

	// MP4 covers no reader expects: an implicit (0) data type, an empty
	// image, and a data atom whose size is shorter than its own header.
	jpeg := "ffd8ffe000104a46494600010100000100010000ffd9"
	x = w("MP4 Cover of Implicit Type")
	l.add("mp4-broken/covr-implicit-type.m4a", "m4a-aac", x, ff("aac", mp4Op(append(mp4Items(x), kv{"covr", list("0:" + jpeg)})...)))
	x = w("MP4 Empty Cover")
	l.add("mp4-broken/covr-empty.m4a", "m4a-aac", x, ff("aac", mp4Op(append(mp4Items(x), kv{"covr", list("14:")})...)))
	x = w("MP4 Cover Atom Too Short")
	r := ff("aac", mp4Op(append(mp4Items(x), kv{"covr", list("13:" + jpeg)})...))
	r.post = func(b []byte) ([]byte, error) {
		i := bytes.Index(b, []byte("covr"))
		if i < 0 || len(b) < i+12 || string(b[i+8:i+12]) != "data" {
			return nil, errors.New("no covr atom with a data atom")
		}
		// The data atom's size: 12, shorter than the 16 bytes of its
		// header, data type and locale.
		copy(b[i+4:i+8], []byte{0, 0, 0, 12})
		return b, nil
	}
	l.add("mp4-broken/covr-data-too-short.m4a", "m4a-aac", x, r)
	return l
}
