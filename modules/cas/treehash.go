package cas

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"lukechampine.com/blake3/guts"
)

// A track's content address is its BLAKE3 hash. BLAKE3 is a tree hash over
// 1 KiB chunks, in which every aligned run of 2^k chunks is a subtree, so a
// block of a power-of-two size has a chaining value of its own, and the
// content hash follows from the blocks' chaining values without reading
// the content again. Block hashes are those chaining values (for a track of
// one block, the content hash itself): each is computed once, from the
// bytes the origin sent, and a complete fill becomes a blob without being
// hashed a second time.

// validBlockSize reports whether bs can be a block of the tree: a power of
// two, at least a chunk.
func validBlockSize(bs int64) bool {
	return bs >= guts.ChunkSize && bits.OnesCount64(uint64(bs)) == 1
}

// blockHash is the hash of block i (data) of a track of size bytes cut
// into blocks of bs (see validBlockSize).
func blockHash(data []byte, i int, bs, size int64) [hashLen]byte {
	n := blockNode(data, uint64(int64(i)*bs/guts.ChunkSize))
	if size <= bs {
		return rootHash(n)
	}
	return cvBytes(guts.ChainingValue(n))
}

// contentHash is the hash of a track of size bytes from its block hashes.
func contentHash(blocks [][hashLen]byte, bs, size int64) ([hashLen]byte, error) {
	if want := (size + bs - 1) / bs; int64(len(blocks)) != want || want == 0 {
		return [hashLen]byte{}, fmt.Errorf("%d block hashes for %d bytes in blocks of %d", len(blocks), size, bs)
	}
	if len(blocks) == 1 {
		return blocks[0], nil
	}
	cvs := make([][8]uint32, len(blocks))
	for i, b := range blocks {
		cvs[i] = cvWords(b)
	}
	return rootHash(parentOf(cvs)), nil
}

// blockNode is the tree node of data, whose first chunk is chunk counter
// of the track: a subtree of power-of-two chunks, or the left-balanced
// tree BLAKE3 builds over the track's last, shorter block.
func blockNode(data []byte, counter uint64) guts.Node {
	chunks := max((len(data)+guts.ChunkSize-1)/guts.ChunkSize, 1)
	if chunks == 1 {
		return guts.CompressChunk(data, &guts.IV, counter, 0)
	}
	if len(data) == chunks*guts.ChunkSize && bits.OnesCount(uint(chunks)) == 1 {
		return guts.CompressEigentree(data, &guts.IV, counter, 0)
	}
	left := leftSize(chunks)
	split := left * guts.ChunkSize
	return guts.ParentNode(
		guts.ChainingValue(blockNode(data[:split], counter)),
		guts.ChainingValue(blockNode(data[split:], counter+uint64(left))),
		&guts.IV, 0)
}

// parentOf is the left-balanced tree over two or more chaining values of
// equal subtrees (but the last, which may be smaller).
func parentOf(cvs [][8]uint32) guts.Node {
	left := leftSize(len(cvs))
	return guts.ParentNode(cvOf(cvs[:left]), cvOf(cvs[left:]), &guts.IV, 0)
}

// leftSize is how many of n ≥ 2 chunks (or equal subtrees) BLAKE3 puts in
// a node's left subtree: the largest power of two below n.
func leftSize(n int) int { return 1 << (bits.Len(uint(n-1)) - 1) }

func cvOf(cvs [][8]uint32) [8]uint32 {
	if len(cvs) == 1 {
		return cvs[0]
	}
	return guts.ChainingValue(parentOf(cvs))
}

func rootHash(n guts.Node) (h [hashLen]byte) {
	n.Flags |= guts.FlagRoot
	out := guts.WordsToBytes(guts.CompressNode(n))
	copy(h[:], out[:])
	return h
}

func cvBytes(cv [8]uint32) (b [hashLen]byte) {
	for i, w := range cv {
		binary.LittleEndian.PutUint32(b[4*i:], w)
	}
	return b
}

func cvWords(b [hashLen]byte) (cv [8]uint32) {
	for i := range cv {
		cv[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return cv
}
