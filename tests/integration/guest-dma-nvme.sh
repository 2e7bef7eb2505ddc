#!/usr/bin/env bash
# DMA context through mappings (issue 18): the guest's nvme driver reads a disk whose first
# sector holds a signature, on an NVMe traced with mmiotrace-dma=on. NVMe moves data with
# scatter-gather mappings of its bus-master space (address_space_map/unmap), its queue
# entries with pci_dma_rw: the trace must hold both directions, a 4096-byte block read
# from the device whose bytes begin with the signature, and every DMA record that carries
# all its bytes must match its CRC-32 (hvmmio stat --strict checks them).
. "$(dirname "$0")/lib.sh"

sig=hvmmio-dma-signature
truncate -s 16M "$OUT/disk.img"
printf '%s' "$sig" | dd of="$OUT/disk.img" conv=notrunc status=none
"$HVMMIO" run --accel tcg -q -o "$OUT/run" --args=mod:nvme,blk:00:04.0 \
	-d nvme,addr=04.0,serial=dma,drive=d0,mmiotrace=on,mmiotrace-file=nvme.txt,mmiotrace-dma=on,mmiotrace-dma-bytes=4096 \
	corpus -- -drive if=none,id=d0,file="$OUT/disk.img",format=raw || fail "the corpus scenario failed"
trace=$OUT/run/nvme.txt
"$HVMMIO" stat --strict "$trace" >"$OUT/stat.txt" || fail "hvmmio stat --strict refused the trace (a CRC?)"
to=$(grep -c '^DMA [0-9.]* TO ' "$trace" || true)
from=$(grep -c '^DMA [0-9.]* FROM ' "$trace" || true)
[ "$to" -gt 0 ] && [ "$from" -gt 0 ] || fail "DMA records: $to to the device, $from from it"
hex=$(printf '%s' "$sig" | od -An -tx1 | tr -d ' \n')
grep -qE "^DMA [0-9.]+ FROM 0x[0-9a-f]+ 4096 0x[0-9a-f]+ .*data=$hex" "$trace" ||
	fail "no 4096-byte read from the device begins with the disk's signature"
grep -q 'dma (DMA records' "$OUT/stat.txt" || fail "hvmmio stat has no DMA section"
pass "$to DMA records to the NVMe (queue entries), $from from it (completions, blocks: the signature among them), CRCs checked"
