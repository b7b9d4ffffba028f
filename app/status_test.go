package app

import (
	"testing"

	"github.com/musicfs/musicfs/modules/cache"
)

func TestStatusLine(t *testing.T) {
	for _, tc := range []struct {
		l    statusLine
		want string
	}{
		{statusLine{tracks: 12, origins: 1}, "serving 12 tracks from 1 origins"},
		{statusLine{tracks: 12, origins: 2, offline: []string{"nas"}}, "serving 12 tracks from 2 origins (1 offline: nas)"},
		{statusLine{tracks: 5, origins: 1, scanning: true, files: 100}, "serving 5 tracks from 1 origins; scanning: 100 files"},
		{statusLine{tracks: 5, origins: 1, pin: cache.PinStatus{Tracks: 10, TracksCached: 3}}, "serving 5 tracks from 1 origins; pinned: 3 of 10 tracks cached"},
		{statusLine{tracks: 5, origins: 1, pin: cache.PinStatus{Tracks: 10, TracksCached: 10}}, "serving 5 tracks from 1 origins"},
		{statusLine{tracks: 5, origins: 1, scanning: true, files: 1000, total: 3000, rate: 500},
			"serving 5 tracks from 1 origins; scanning: 1000 files of ~3000, 500/s, ~4s left"},
		{statusLine{tracks: 5, origins: 1, scanning: true, files: 3500, total: 3000, rate: 500},
			"serving 5 tracks from 1 origins; scanning: 3500 files, 500/s"},
	} {
		if got := tc.l.String(); got != tc.want {
			t.Errorf("got  %q\nwant %q", got, tc.want)
		}
	}
}
