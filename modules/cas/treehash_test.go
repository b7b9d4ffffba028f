package cas

import (
	"math/rand/v2"
	"testing"

	"github.com/zeebo/blake3"
)

// The content hash built from block hashes is BLAKE3's hash of the whole,
// as another implementation computes it, for every shape of track: one
// block or many, a last block that is full, a chunk and a bit, or a byte.
func TestContentHashFromBlocksIsBLAKE3(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, bs := range []int64{1 << 10, 4 << 10, 1 << 20} {
		for _, size := range []int64{1, 63, 1023, 1024, 1025, bs - 1, bs, bs + 1, 2 * bs, 3*bs + 17,
			5*bs - 1024, 7*bs + 2048 + 5, 13 * bs, 33*bs + 1} {
			if size > 40<<20 {
				continue
			}
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(rng.Uint32())
			}
			var blocks [][hashLen]byte
			for i := 0; int64(i)*bs < size; i++ {
				off := int64(i) * bs
				blocks = append(blocks, blockHash(data[off:min(off+bs, size)], i, bs, size))
			}
			got, err := contentHash(blocks, bs, size)
			if err != nil {
				t.Fatal(err)
			}
			if want := blake3.Sum256(data); got != want {
				t.Errorf("block size %d, %d bytes: content hash %x, BLAKE3 %x", bs, size, got, want)
			}
		}
	}
}

// A block's hash depends on where it is: the same bytes at another index
// hash differently, so blocks cannot be swapped unnoticed.
func TestBlockHashDependsOnPosition(t *testing.T) {
	data := make([]byte, 4096)
	if blockHash(data, 0, 4096, 4*4096) == blockHash(data, 1, 4096, 4*4096) {
		t.Fatal("blocks 0 and 1 of the same bytes hash the same")
	}
}

func TestContentHashNeedsEveryBlock(t *testing.T) {
	if _, err := contentHash(make([][hashLen]byte, 2), 4096, 3*4096); err == nil {
		t.Fatal("two block hashes for three blocks accepted")
	}
}
