# Dumps what mutagen reads from each file named on stdin (one path a line)
# as JSON: {path: {field: [values]}}, the fields named as the oracle names
# them and each format's keys mapped to them as mutagen's own easy
# interfaces and Picard map them. Values are strings, several values a
# list: nothing is split or joined here. A file mutagen cannot read has no
# fields; an error is reported under "error".
import json
import sys

import mutagen
import mutagen.apev2
import mutagen.asf
import mutagen.id3
import mutagen.mp4
from mutagen._vorbis import VComment

# field: keys, first present wins (Vorbis and APEv2 keys are compared
# case-insensitively; MP4 freeform atoms are named after their "name").
VORBIS = {
    "title": ["TITLE"],
    "artist": ["ARTIST"],
    "artists": ["ARTISTS"],
    "albumartist": ["ALBUMARTIST", "ALBUM ARTIST"],
    "albumartists": ["ALBUMARTISTS"],
    "album": ["ALBUM"],
    "genre": ["GENRE"],
    "date": ["DATE", "YEAR"],
    "originaldate": ["ORIGINALDATE", "ORIGINALYEAR"],
    "track": ["TRACKNUMBER"],
    "tracktotal": ["TRACKTOTAL", "TOTALTRACKS"],
    "disc": ["DISCNUMBER"],
    "disctotal": ["DISCTOTAL", "TOTALDISCS"],
    "compilation": ["COMPILATION"],
}
APE = dict(VORBIS, date=["YEAR", "DATE"], track=["TRACK"], disc=["DISC"],
           albumartist=["ALBUM ARTIST", "ALBUMARTIST"])
ID3 = {
    "title": ["TIT2"],
    "artist": ["TPE1"],
    "artists": ["TXXX:ARTISTS"],
    "albumartist": ["TPE2"],
    "albumartists": ["TXXX:ALBUMARTISTS"],
    "album": ["TALB"],
    "genre": ["TCON"],
    "date": ["TDRC"],
    "originaldate": ["TDOR"],
    "track": ["TRCK"],
    "tracktotal": ["TXXX:TRACKTOTAL"],
    "disc": ["TPOS"],
    "disctotal": ["TXXX:DISCTOTAL"],
    "compilation": ["TCMP"],
}
MP4 = {
    "title": ["\xa9nam"],
    "artist": ["\xa9ART"],
    "artists": ["----:com.apple.iTunes:ARTISTS"],
    "albumartist": ["aART"],
    "albumartists": ["----:com.apple.iTunes:ALBUMARTISTS"],
    "album": ["\xa9alb"],
    "genre": ["\xa9gen"],
    "date": ["\xa9day"],
    "originaldate": ["----:com.apple.iTunes:ORIGINALDATE"],
    "track": ["trkn"],
    "disc": ["disk"],
    "compilation": ["cpil"],
}
ASF = {
    "title": ["Title"],
    "artist": ["Author"],
    "artists": ["WM/ARTISTS"],
    "albumartist": ["WM/AlbumArtist"],
    "albumartists": ["WM/ALBUMARTISTS"],
    "album": ["WM/AlbumTitle"],
    "genre": ["WM/Genre"],
    "date": ["WM/Year"],
    "originaldate": ["WM/OriginalReleaseYear"],
    "track": ["WM/TrackNumber"],
    "disc": ["WM/PartOfSet"],
    "compilation": ["WM/IsCompilation"],
}


def id3_values(tags, key):
    if key.startswith("TXXX:"):
        want = key[5:].upper()
        for fr in tags.getall("TXXX"):
            if fr.desc.upper() == want:
                return [str(t) for t in fr.text]
        return []
    frames = tags.getall(key)
    if not frames:
        return []
    fr = frames[0]
    if key == "TCON":
        return list(fr.genres)
    if key in ("TDRC", "TDOR"):
        # mutagen writes a timestamp's time after a space; the file (and
        # ffmpeg) have the "T" of ISO 8601.
        return [str(t).replace(" ", "T") for t in fr.text]
    return [str(t) for t in fr.text]


def mp4_values(tags, key):
    if key not in tags:
        return []
    vs = tags[key]
    if key in ("trkn", "disk"):
        return ["%d/%d" % (n, t) if t else "%d" % n for n, t in vs]
    if key == "cpil":
        return ["1" if vs else "0"]
    if key.startswith("----:"):
        return [bytes(v).decode("utf-8", "replace") for v in vs]
    return [str(v) for v in vs]


def ci_values(tags, key):
    # Vorbis comments and APEv2 items: keys in any case.
    for k in tags.keys():
        if k.upper() == key.upper():
            v = tags[k]
            if isinstance(v, mutagen.apev2.APETextValue):
                return list(v)
            if isinstance(v, list):
                return [str(x) for x in v]
            return [str(v)]
    return []


def asf_values(tags, key):
    return [str(v) for v in tags.get(key, [])]


def read(table, get, tags):
    out = {}
    for field, keys in table.items():
        for key in keys:
            vs = [v for v in get(tags, key) if v != ""]
            if vs:
                out[field] = vs
                break
    return out


def dump(path):
    try:
        f = mutagen.File(path)
    except mutagen.MutagenError:
        f = None  # a header mutagen rejects; its APEv2 tag may still be read
    t = f.tags if f is not None else None
    if t is None:
        try:
            t = mutagen.apev2.APEv2(path)
        except mutagen.apev2.APENoHeaderError:
            return {}
    if isinstance(t, mutagen.id3.ID3):
        out = read(ID3, id3_values, t)
        # An APEv2 tag beside ID3 (MP3, TTA): players read both; it fills
        # the fields ID3 lacks.
        try:
            ape = mutagen.apev2.APEv2(path)
        except mutagen.apev2.APENoHeaderError:
            ape = None
        if ape is not None:
            for field, vs in read(APE, ci_values, ape).items():
                out.setdefault(field, vs)
        return out
    if isinstance(t, mutagen.apev2.APEv2):
        return read(APE, ci_values, t)
    if isinstance(t, VComment):
        return read(VORBIS, ci_values, t)
    if isinstance(t, mutagen.mp4.MP4Tags):
        return read(MP4, mp4_values, t)
    if isinstance(t, mutagen.asf.ASFTags):
        return read(ASF, asf_values, t)
    return {}


def main():
    out = {}
    for line in sys.stdin:
        path = line.rstrip("\n")
        if not path:
            continue
        try:
            out[path] = dump(path)
        except Exception as e:
            out[path] = {"error": ["%s: %s" % (type(e).__name__, e)]}
    json.dump(out, sys.stdout, ensure_ascii=False)


main()
