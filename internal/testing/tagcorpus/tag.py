# Tags the files of the corpus with mutagen, as Build's spec says.
#
# Reads a JSON list on stdin: [{"path": ..., "ops": [op, ...]}, ...]. Each op
# is one of
#   {"op": "id3", "container": "mp3"|"wave"|"aiff"|"dsf"|"dff",
#    "version": 3|4, "v1": 0|2, "frames": [["TIT2", [values]], ["TXXX:DESC", [values]]]}
#   {"op": "ape", "items": [["Title", [values]], ...]}
#   {"op": "vorbis"|"mp4"|"asf", "items": [[key, [values]], ...]}
# and is applied in order. Any failure ends the run with the file named.
import json
import sys

import mutagen
import mutagen.aiff
import mutagen.apev2
import mutagen.asf
import mutagen.dsdiff
import mutagen.dsf
import mutagen.id3
import mutagen.mp4
import mutagen.wave


def id3_frames(frames):
    out = []
    for fid, values in frames:
        if fid.startswith("TXXX:"):
            out.append(mutagen.id3.TXXX(encoding=3, desc=fid[5:], text=values))
        else:
            out.append(getattr(mutagen.id3, fid)(encoding=3, text=values))
    return out


def op_id3(path, op):
    version = op.get("version", 4)
    v1 = op.get("v1", 0)
    container = op.get("container", "mp3")
    if container == "mp3":
        tags = mutagen.id3.ID3()
        for fr in id3_frames(op["frames"]):
            tags.add(fr)
        # v23_sep=None keeps several values NUL-separated in v2.3 too
        # instead of joining them with "/".
        tags.save(path, v2_version=version, v1=v1, v23_sep=None)
        return
    cls = {
        "wave": mutagen.wave.WAVE,
        "aiff": mutagen.aiff.AIFF,
        "dsf": mutagen.dsf.DSF,
        "dff": mutagen.dsdiff.DSDIFF,
    }[container]
    f = cls(path)
    if f.tags is None:
        f.add_tags()
    for fr in id3_frames(op["frames"]):
        f.tags.add(fr)
    f.save(v2_version=version, v23_sep=None)


def op_ape(path, op):
    tags = mutagen.apev2.APEv2()
    for key, values in op["items"]:
        tags[key] = values
    tags.save(path)


def op_vorbis(path, op):
    f = mutagen.File(path)
    if f is None:
        raise ValueError("mutagen does not recognise the file")
    if f.tags is None:
        f.add_tags()
    f.tags.clear()
    for key, values in op["items"]:
        f.tags[key] = values
    f.save()


def pair(v):
    n, _, total = v.partition("/")
    return (int(n), int(total or 0))


def op_mp4(path, op):
    f = mutagen.mp4.MP4(path)
    if f.tags is None:
        f.add_tags()
    f.tags.clear()
    for key, values in op["items"]:
        if key in ("trkn", "disk"):
            f.tags[key] = [pair(v) for v in values]
        elif key == "cpil":
            f.tags[key] = values[0] == "1"
        elif key == "covr":
            # "format:hexdata": an image of any data type, even a wrong one.
            covers = []
            for v in values:
                fmt, _, data = v.partition(":")
                covers.append(mutagen.mp4.MP4Cover(bytes.fromhex(data), imageformat=int(fmt)))
            f.tags[key] = covers
        elif key.startswith("----:"):
            f.tags[key] = [mutagen.mp4.MP4FreeForm(v.encode()) for v in values]
        else:
            f.tags[key] = values
    f.save()


def op_asf(path, op):
    f = mutagen.asf.ASF(path)
    f.tags.clear()
    for key, values in op["items"]:
        f.tags[key] = values
    f.save()


OPS = {"id3": op_id3, "ape": op_ape, "vorbis": op_vorbis, "mp4": op_mp4, "asf": op_asf}


def main():
    for spec in json.load(sys.stdin):
        for op in spec["ops"]:
            try:
                OPS[op["op"]](spec["path"], op)
            except Exception as e:
                sys.exit("tag %s (%s): %s: %s" % (spec["path"], op["op"], type(e).__name__, e))


main()
