package tags

import (
	"strconv"
	"strings"
)

// id3Genres are the ID3v1 genre names by number, with Winamp's extensions,
// as mutagen and TagLib list them.
var id3Genres = [...]string{
	"Blues", "Classic Rock", "Country", "Dance", "Disco", "Funk", "Grunge", "Hip-Hop",
	"Jazz", "Metal", "New Age", "Oldies", "Other", "Pop", "R&B", "Rap",
	"Reggae", "Rock", "Techno", "Industrial", "Alternative", "Ska", "Death Metal", "Pranks",
	"Soundtrack", "Euro-Techno", "Ambient", "Trip-Hop", "Vocal", "Jazz+Funk", "Fusion", "Trance",
	"Classical", "Instrumental", "Acid", "House", "Game", "Sound Clip", "Gospel", "Noise",
	"Alt. Rock", "Bass", "Soul", "Punk", "Space", "Meditative", "Instrumental Pop", "Instrumental Rock",
	"Ethnic", "Gothic", "Darkwave", "Techno-Industrial", "Electronic", "Pop-Folk", "Eurodance", "Dream",
	"Southern Rock", "Comedy", "Cult", "Gangsta Rap", "Top 40", "Christian Rap", "Pop/Funk", "Jungle",
	"Native American", "Cabaret", "New Wave", "Psychedelic", "Rave", "Showtunes", "Trailer", "Lo-Fi",
	"Tribal", "Acid Punk", "Acid Jazz", "Polka", "Retro", "Musical", "Rock & Roll", "Hard Rock",
	"Folk", "Folk-Rock", "National Folk", "Swing", "Fast-Fusion", "Bebop", "Latin", "Revival",
	"Celtic", "Bluegrass", "Avantgarde", "Gothic Rock", "Progressive Rock", "Psychedelic Rock", "Symphonic Rock", "Slow Rock",
	"Big Band", "Chorus", "Easy Listening", "Acoustic", "Humour", "Speech", "Chanson", "Opera",
	"Chamber Music", "Sonata", "Symphony", "Booty Bass", "Primus", "Porn Groove", "Satire", "Slow Jam",
	"Club", "Tango", "Samba", "Folklore", "Ballad", "Power Ballad", "Rhythmic Soul", "Freestyle",
	"Duet", "Punk Rock", "Drum Solo", "A Cappella", "Euro-House", "Dance Hall", "Goa", "Drum & Bass",
	"Club-House", "Hardcore", "Terror", "Indie", "BritPop", "Afro-Punk", "Polsk Punk", "Beat",
	"Christian Gangsta Rap", "Heavy Metal", "Black Metal", "Crossover", "Contemporary Christian", "Christian Rock", "Merengue", "Salsa",
	"Thrash Metal", "Anime", "JPop", "Synthpop", "Abstract", "Art Rock", "Baroque", "Bhangra",
	"Big Beat", "Breakbeat", "Chillout", "Downtempo", "Dub", "EBM", "Eclectic", "Electro",
	"Electroclash", "Emo", "Experimental", "Garage", "Global", "IDM", "Illbient", "Industro-Goth",
	"Jam Band", "Krautrock", "Leftfield", "Lounge", "Math Rock", "New Romantic", "Nu-Breakz", "Post-Punk",
	"Post-Rock", "Psytrance", "Shoegaze", "Space Rock", "Trop Rock", "World Music", "Neoclassical", "Audiobook",
	"Audio Theatre", "Neue Deutsche Welle", "Podcast", "Indie Rock", "G-Funk", "Dubstep", "Garage Rock", "Psybient",
}

// id3Genre returns the name of ID3 genre number n, or "".
func id3Genre(n int) string {
	if n >= 0 && n < len(id3Genres) {
		return id3Genres[n]
	}
	return ""
}

// id3GenreValues expands one ID3v2 TCON value: "13" and "(13)" are genre
// numbers, "(RX)" and "(CR)" Remix and Cover, and a refinement after the
// parentheses ("(13)Britpop") is a genre of its own; "((" escapes a literal
// parenthesis. A number that names no genre is kept as text.
func id3GenreValues(v string) []string {
	v = strings.TrimSpace(v)
	if n, err := strconv.Atoi(v); err == nil {
		if g := id3Genre(n); g != "" {
			return []string{g}
		}
		return []string{v}
	}
	var out []string
	for strings.HasPrefix(v, "(") && !strings.HasPrefix(v, "((") {
		end := strings.IndexByte(v, ')')
		if end < 0 {
			break
		}
		code := v[1:end]
		switch code {
		case "RX":
			out = append(out, "Remix")
		case "CR":
			out = append(out, "Cover")
		default:
			n, err := strconv.Atoi(code)
			if g := id3Genre(n); err == nil && g != "" {
				out = append(out, g)
			} else {
				return append(out, v) // not a code: plain text in parentheses
			}
		}
		v = strings.TrimSpace(v[end+1:])
	}
	if strings.HasPrefix(v, "((") {
		v = v[1:]
	}
	if v != "" {
		out = append(out, v)
	}
	return out
}
