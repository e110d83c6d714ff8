#!/usr/bin/python3
"""A real RTSP server for tests and benches: GStreamer's gst-rtsp-server, bound to 127.0.0.1.

  rtsp-server.py serve --port P [--live /live=WxH@FPS[:KEYINT]] [--file /clip=PATH.mp4]
      Mounts a live test source (videotestsrc -> x264) and/or an H.264 MP4 file.
      Prints "READY <port>" once listening.
  rtsp-server.py encode --out PATH --width W --height H --fps F --seconds S [--keyint K] [--bitrate KBPS] [--preset P]
      Writes an H.264 test clip (MP4, MKV or AVI by extension) and exits.

Run with the system /usr/bin/python3 (a pyenv python has no `gi`).
"""
import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

# Moving content (a ball over a zone plate with a clock) so the encoder works like a camera's.
SOURCE = (
    "videotestsrc {live} pattern=ball background-color=0xff404040 "
    "! video/x-raw,width={w},height={h},framerate={fps}/1 "
    "! timeoverlay font-desc=\"Sans 48\" "
)
# No B-frames (tune=zerolatency), as IP cameras stream.
X264 = "x264enc tune=zerolatency speed-preset={preset} key-int-max={keyint} bitrate={bitrate} "


def parse_live(spec):
    mount, _, rest = spec.partition("=")
    size, _, tail = rest.partition("@")
    fps, _, keyint = tail.partition(":")
    w, h = size.split("x")
    return mount, int(w), int(h), int(fps), int(keyint or fps)


def serve(args):
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(str(args.port))
    mounts = server.get_mount_points()
    for spec in args.live or []:
        mount, w, h, fps, keyint = parse_live(spec)
        factory = GstRtspServer.RTSPMediaFactory()
        launch = "( " + SOURCE.format(live="is-live=true", w=w, h=h, fps=fps)
        launch += "! " + X264.format(preset="ultrafast", keyint=keyint, bitrate=args.bitrate) + "! rtph264pay name=pay0 pt=96 config-interval=1 )"
        factory.set_launch(launch)
        # One encoder for every client, as a camera has.
        factory.set_shared(True)
        mounts.add_factory(mount, factory)
    for spec in args.file or []:
        mount, _, path = spec.partition("=")
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            "( filesrc location=\"%s\" ! qtdemux ! h264parse ! rtph264pay name=pay0 pt=96 config-interval=1 )" % path
        )
        mounts.add_factory(mount, factory)
    if server.attach(None) == 0:
        print("ERROR cannot listen on 127.0.0.1:%d" % args.port, flush=True)
        sys.exit(2)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, loop.quit)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    print("READY %d" % args.port, flush=True)
    loop.run()


def encode(args):
    mux = {"mp4": "mp4mux", "mov": "qtmux", "mkv": "matroskamux", "avi": "avimux"}[args.out.rsplit(".", 1)[-1].lower()]
    frames = args.seconds * args.fps
    launch = SOURCE.format(live="num-buffers=%d" % frames, w=args.width, h=args.height, fps=args.fps)
    launch += "! " + X264.format(preset=args.preset, keyint=args.keyint or args.fps, bitrate=args.bitrate)
    launch += "! h264parse ! %s ! filesink location=\"%s\"" % (mux, args.out)
    pipeline = Gst.parse_launch(launch)
    pipeline.set_state(Gst.State.PLAYING)
    msg = pipeline.get_bus().timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    if msg.type == Gst.MessageType.ERROR:
        err, dbg = msg.parse_error()
        print("ERROR %s %s" % (err, dbg), file=sys.stderr)
        sys.exit(1)
    print("WROTE %s" % args.out, flush=True)


def main():
    Gst.init(None)
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--live", action="append", help="/mount=WxH@FPS[:KEYINT]")
    s.add_argument("--file", action="append", help="/mount=path.mp4")
    s.add_argument("--bitrate", type=int, default=2000, help="kbit/s of live mounts")
    e = sub.add_parser("encode")
    e.add_argument("--out", required=True)
    e.add_argument("--width", type=int, default=640)
    e.add_argument("--height", type=int, default=360)
    e.add_argument("--fps", type=int, default=25)
    e.add_argument("--seconds", type=int, default=4)
    e.add_argument("--keyint", type=int, default=0)
    e.add_argument("--bitrate", type=int, default=1000)
    e.add_argument("--preset", default="ultrafast", help="x264 speed preset (veryfast: CABAC and deblocking, like a camera)")
    args = p.parse_args()
    serve(args) if args.cmd == "serve" else encode(args)


if __name__ == "__main__":
    main()
