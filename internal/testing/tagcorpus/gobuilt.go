package tagcorpus

import (
	"bytes"
	"encoding/binary"
)

// The files no tool here can make, built byte by byte. Each is the
// smallest well-formed file of its format that ffprobe opens; tags are
// added by mutagen afterwards where the format has them.

var (
	le = binary.LittleEndian
	be = binary.BigEndian
)

const (
	dsdRate    = 2822400 // DSD64, in 1-bit samples per second per channel
	dsdSilence = 0x69    // the DSD idle pattern: decodes to silence
	dsdSeconds = 0.3
)

// dsf is a DSF file (Sony's DSF specification 1.01) of stereo DSD64
// silence: the "DSD ", "fmt " and "data" chunks, with no metadata yet (the
// pointer to it is 0; mutagen sets it when it appends an ID3v2 tag).
func dsf() []byte {
	const blockSize = 4096 // bytes per channel per block
	samples := uint64(dsdSeconds * dsdRate)
	perChannel := (samples/8 + blockSize - 1) / blockSize * blockSize
	data := bytes.Repeat([]byte{dsdSilence}, int(2*perChannel))

	var b []byte
	b = append(b, "DSD "...)
	b = le.AppendUint64(b, 28)
	b = le.AppendUint64(b, uint64(28+52+12+len(data)))
	b = le.AppendUint64(b, 0) // metadata pointer
	b = append(b, "fmt "...)
	b = le.AppendUint64(b, 52)
	for _, v := range []uint32{1, 0, 2, 2, dsdRate, 1} { // version, DSD raw, stereo, channels, rate, bits
		b = le.AppendUint32(b, v)
	}
	b = le.AppendUint64(b, samples)
	b = le.AppendUint32(b, blockSize)
	b = le.AppendUint32(b, 0)
	b = append(b, "data"...)
	b = le.AppendUint64(b, uint64(12+len(data)))
	return append(b, data...)
}

// dff is a DSDIFF 1.5 file of stereo, uncompressed DSD64 silence.
func dff() []byte {
	chunk := func(id string, body []byte) []byte {
		b := append([]byte(id), be.AppendUint64(nil, uint64(len(body)))...)
		b = append(b, body...)
		if len(body)%2 == 1 {
			b = append(b, 0)
		}
		return b
	}
	cmpr := append([]byte("DSD "), byte(len("not compressed")))
	cmpr = append(cmpr, "not compressed"...)
	snd := []byte("SND ")
	snd = append(snd, chunk("FS  ", be.AppendUint32(nil, dsdRate))...)
	snd = append(snd, chunk("CHNL", append(be.AppendUint16(nil, 2), "SLFTSRGT"...))...)
	snd = append(snd, chunk("CMPR", cmpr)...)
	body := []byte("DSD ")
	body = append(body, chunk("FVER", be.AppendUint32(nil, 0x01050000))...)
	body = append(body, chunk("PROP", snd)...)
	body = append(body, chunk("DSD ", bytes.Repeat([]byte{dsdSilence}, 2*int(dsdSeconds*dsdRate/8)))...)
	return chunk("FRM8", body)
}

// monkeysAudio is a Monkey's Audio (APE) 3.99 file: descriptor, header,
// a one-entry seek table and one frame of stereo silence (a frame that
// carries only the "left and right silent" code). No encoder is packaged
// for Debian, so this is all the format the corpus has; mutagen adds the
// APEv2 tag.
func monkeysAudio() []byte {
	const (
		descriptorLen = 52
		headerLen     = 24
		seekLen       = 4
		samples       = 13230 // 0.3 s at 44.1 kHz
	)
	// Frame data is read as little-endian 32-bit words: a CRC with the top
	// bit set says frame flags follow; flags 3 is left and right silence.
	frame := le.AppendUint32(nil, 0x80000000)
	frame = le.AppendUint32(frame, 3)
	frame = append(frame, make([]byte, 8)...)

	b := []byte("MAC ")
	b = le.AppendUint16(b, 3990)
	b = le.AppendUint16(b, 0)
	for _, v := range []uint32{descriptorLen, headerLen, seekLen, 0, uint32(len(frame)), 0, 0} {
		b = le.AppendUint32(b, v)
	}
	b = append(b, make([]byte, 16)...) // MD5, unchecked
	b = le.AppendUint16(b, 2000)       // compression level "normal"
	b = le.AppendUint16(b, 0)          // format flags
	b = le.AppendUint32(b, 73728)      // blocks per frame
	b = le.AppendUint32(b, samples)    // blocks in the final frame
	b = le.AppendUint32(b, 1)          // frames
	b = le.AppendUint16(b, 16)         // bits per sample
	b = le.AppendUint16(b, 2)          // channels
	b = le.AppendUint32(b, 44100)
	b = le.AppendUint32(b, descriptorLen+headerLen+seekLen) // the frame's offset
	return append(b, frame...)
}

// padded returns s cut or padded with NULs to n bytes.
func padded(s string, n int) []byte {
	b := make([]byte, n)
	copy(b, s)
	return b
}

// protrackerMOD is a 4-channel ProTracker module ("M.K.") named title,
// with one empty pattern and no samples.
func protrackerMOD(title string) []byte {
	b := padded(title, 20)
	for range 31 {
		s := padded("", 30)
		s[29] = 1 // repeat length 1 word: "no loop"
		b = append(b, s...)
	}
	b = append(b, 1, 127) // song length, restart byte
	b = append(b, make([]byte, 128)...)
	b = append(b, "M.K."...)
	return append(b, make([]byte, 64*4*4)...) // pattern 0
}

// fastTrackerXM is a 2-channel FastTracker II module named title, with one
// empty pattern and no instruments.
func fastTrackerXM(title string) []byte {
	b := []byte("Extended Module: ")
	b = append(b, padded(title, 20)...)
	b = append(b, 0x1A)
	b = append(b, padded("musicfs tagcorpus", 20)...)
	b = le.AppendUint16(b, 0x0104)
	b = le.AppendUint32(b, 276) // header size, counted from itself
	for _, v := range []uint16{1, 0, 2, 1, 0, 1, 6, 125} {
		// song length, restart, channels, patterns, instruments, flags, tempo, BPM
		b = le.AppendUint16(b, v)
	}
	b = append(b, make([]byte, 256)...) // order table
	b = le.AppendUint32(b, 9)           // pattern header length
	b = append(b, 0)                    // packing type
	b = le.AppendUint16(b, 64)          // rows
	return le.AppendUint16(b, 0)        // packed size 0: an empty pattern
}

// screamTrackerS3M is a 2-channel Scream Tracker 3 module named title,
// with one empty pattern and no instruments.
func screamTrackerS3M(title string) []byte {
	b := padded(title, 28)
	b = append(b, 0x1A, 16, 0, 0)
	for _, v := range []uint16{2, 0, 1, 0, 0x1320, 2} { // orders, instruments, patterns, flags, tracker, sample format
		b = le.AppendUint16(b, v)
	}
	b = append(b, "SCRM"...)
	b = append(b, 64, 6, 125, 0xB0, 0, 0) // global volume, speed, tempo, master volume, click removal, panning
	b = append(b, make([]byte, 10)...)    // reserved, special
	ch := bytes.Repeat([]byte{0xFF}, 32)
	ch[0], ch[1] = 0, 8 // left 1, right 1
	b = append(b, ch...)
	b = append(b, 0, 0xFF)               // orders: pattern 0, end
	const patternAt = 112                // 16-byte aligned, after the parapointer
	b = le.AppendUint16(b, patternAt/16) // pattern parapointer
	b = append(b, make([]byte, patternAt-len(b))...)
	b = le.AppendUint16(b, 2+64)          // packed length, itself included
	return append(b, make([]byte, 64)...) // 64 rows, each just its end byte
}

// impulseTrackerIT is an Impulse Tracker module named title, with one empty
// pattern and no instruments or samples.
func impulseTrackerIT(title string) []byte {
	b := []byte("IMPM")
	b = append(b, padded(title, 26)...)
	for _, v := range []uint16{0x1004, 2, 0, 0, 1, 0x0214, 0x0200, 1, 0} {
		// highlight, orders, instruments, samples, patterns, created with, compatible with, flags (stereo), special
		b = le.AppendUint16(b, v)
	}
	b = append(b, 128, 48, 6, 125, 128, 0) // global volume, mix volume, speed, tempo, separation, pitch wheel depth
	b = append(b, make([]byte, 10)...)     // message length and offset, reserved
	b = append(b, bytes.Repeat([]byte{32}, 64)...)
	b = append(b, bytes.Repeat([]byte{64}, 64)...)
	b = append(b, 0, 0xFF) // orders
	b = le.AppendUint32(b, uint32(len(b)+4))
	b = le.AppendUint16(b, 64) // packed length
	b = le.AppendUint16(b, 64) // rows
	b = append(b, make([]byte, 4)...)
	return append(b, make([]byte, 64)...) // 64 rows, each just its end byte
}

// midi is a format-0 Standard MIDI File: one note of about 0.3 s, and no
// text events (MIDI files carry no tags).
func midi() []byte {
	b := []byte("MThd")
	b = be.AppendUint32(b, 6)
	b = be.AppendUint16(b, 0)  // format 0
	b = be.AppendUint16(b, 1)  // one track
	b = be.AppendUint16(b, 96) // ticks per quarter note
	events := []byte{
		0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, // tempo: 500,000 µs per quarter note
		0x00, 0x90, 0x45, 0x50, // note on, A4
		0x3A, 0x80, 0x45, 0x40, // 58 ticks (0.3 s) later, note off
		0x00, 0xFF, 0x2F, 0x00, // end of track
	}
	b = append(b, "MTrk"...)
	b = be.AppendUint32(b, uint32(len(events)))
	return append(b, events...)
}
