#!/usr/bin/env python3
"""A peer for a guest's NIC on QEMU's dgram netdev: answers ARP requests and ICMP echo
requests for one IPv4 address (10.0.2.2 unless told), nothing else.

    net-responder.py SOCKET [--ip 10.0.2.2] [--log FILE] &
    qemu ... -netdev dgram,id=n0,local.type=unix,local.path=QEMU-SOCKET,\
remote.type=unix,remote.path=SOCKET

QEMU sends each Ethernet frame as one datagram to SOCKET (bound here) from QEMU-SOCKET,
where the replies go. Deterministic: a reply is sent at once, with no frame of its own
(the guest's recording of a data-moving driver depends on the frames it receives).
Standard library only. Ends on SIGTERM or when told --count frames were answered.
"""
import argparse
import os
import socket
import struct
import sys

MAC = bytes.fromhex("525400000202")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def answer(frame, ip):
    """The reply to one Ethernet frame, or None."""
    if len(frame) < 14:
        return None
    dst, src, etype = frame[:6], frame[6:12], struct.unpack("!H", frame[12:14])[0]
    if etype == 0x0806 and len(frame) >= 42:
        htype, ptype, hlen, plen, op = struct.unpack("!HHBBH", frame[14:22])
        sha, spa, tpa = frame[22:28], frame[28:32], frame[38:42]
        if op == 1 and tpa == ip and ptype == 0x0800:
            arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + MAC + ip + sha + spa
            return src + MAC + b"\x08\x06" + arp
        return None
    if etype == 0x0800 and len(frame) >= 34 and dst in (MAC, b"\xff" * 6):
        ihl = (frame[14] & 15) * 4
        iph = frame[14:14 + ihl]
        total = struct.unpack("!H", iph[2:4])[0]
        if iph[9] != 1 or iph[16:20] != ip or len(frame) < 14 + total:
            return None
        icmp = bytearray(frame[14 + ihl:14 + total])
        if not icmp or icmp[0] != 8:
            return None
        icmp[0] = 0
        icmp[2:4] = b"\0\0"
        icmp[2:4] = struct.pack("!H", checksum(bytes(icmp)))
        rip = bytearray(iph)
        rip[8] = 64
        rip[12:16], rip[16:20] = iph[16:20], iph[12:16]
        rip[10:12] = b"\0\0"
        rip[10:12] = struct.pack("!H", checksum(bytes(rip)))
        return src + MAC + b"\x08\x00" + bytes(rip) + bytes(icmp)
    return None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("socket")
    p.add_argument("--ip", default="10.0.2.2")
    p.add_argument("--log")
    a = p.parse_args()
    ip = socket.inet_aton(a.ip)
    if os.path.exists(a.socket):
        os.unlink(a.socket)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(a.socket)
    log = open(a.log, "a", buffering=1) if a.log else None
    while True:
        frame, peer = s.recvfrom(65536)
        reply = answer(frame, ip)
        if log:
            log.write(f"got {len(frame)} bytes type {frame[12:14].hex()}"
                      f"{', answered' if reply else ''}\n")
        if reply and peer:
            s.sendto(reply, peer)


if __name__ == "__main__":
    sys.exit(main())
